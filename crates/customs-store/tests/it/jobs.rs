//! The job queue and the API tokens, on both backends.

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use customs_store::{JobState, NewJob, StoreError, Timestamp};
use serde_json::json;

use crate::support::{Fixture, both, finding, scan};

both!(
    a_live_job_is_queued_once,
    concurrent_workers_never_share_a_job,
    an_ended_lease_passes_the_job_on_and_fences_the_old_worker,
    failures_back_off_then_die,
    a_released_job_is_not_charged_an_attempt,
    a_credential_in_the_payload_is_dropped_when_the_job_ends,
    a_scan_and_its_job_commit_together,
    tokens_are_kept_by_hash_and_revoked,
    one_worker_reads_a_layer_while_the_others_wait,
);

const MINUTE: Duration = Duration::from_secs(60);

fn job<'a>(key: &'a str, payload: &'a serde_json::Value) -> NewJob<'a> {
    NewJob {
        kind: "scan",
        key,
        payload,
        max_attempts: 3,
    }
}

fn a_live_job_is_queued_once(fx: &Fixture) {
    let mut store = fx.open();
    let payload = json!({"digest": "sha256:a"});
    let first = store.enqueue_job(&job("sha256:a", &payload)).unwrap();
    assert!(first.created);
    let again = store.enqueue_job(&job("sha256:a", &payload)).unwrap();
    assert_eq!((again.id, again.created), (first.id, false));
    // Another kind with the same key is another job.
    let rematch = store
        .enqueue_job(&NewJob {
            kind: "rematch",
            ..job("sha256:a", &payload)
        })
        .unwrap();
    assert!(rematch.created);
    // Running is live too.
    let lease = store.claim("w1", MINUTE).unwrap().unwrap();
    assert_eq!(lease.job.id, first.id);
    assert_eq!(lease.job.state, JobState::Running);
    assert_eq!(lease.job.attempts, 1);
    assert!(
        !store
            .enqueue_job(&job("sha256:a", &payload))
            .unwrap()
            .created
    );
    store.complete(&lease, &json!({"ok": true})).unwrap();
    // Done is not: the digest pushed again later is scanned again.
    let later = store.enqueue_job(&job("sha256:a", &payload)).unwrap();
    assert!(later.created && later.id > first.id);
    let done = store.job(first.id).unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result, Some(json!({"ok": true})));
    assert!(done.finished_at.is_some() && done.lease_until.is_none());
    let counts = store.queue_counts().unwrap();
    assert_eq!(
        (counts.queued, counts.running, counts.done, counts.dead),
        (2, 0, 1, 0)
    );
    // Pages, newest first, by cursor.
    let page = store.jobs(None, None, 2).unwrap();
    assert_eq!(page.len(), 2);
    let rest = store.jobs(None, Some(page[1].id), 10).unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].id < page[1].id);
    let queued = store.jobs(Some(JobState::Done), None, 10).unwrap();
    assert_eq!(queued.iter().map(|j| j.id).collect::<Vec<_>>(), [first.id]);
}

fn concurrent_workers_never_share_a_job(fx: &Fixture) {
    const JOBS: usize = 60;
    {
        let mut store = fx.open();
        for i in 0..JOBS {
            let payload = json!({"n": i});
            store.enqueue_job(&job(&format!("k{i}"), &payload)).unwrap();
        }
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let url = fx.url().to_owned();
            thread::spawn(move || {
                let mut store = customs_store::open(&url).unwrap();
                let name = format!("w{w}");
                let mut taken = Vec::new();
                while let Some(lease) = store.claim(&name, MINUTE).unwrap() {
                    store.complete(&lease, &json!({"by": name})).unwrap();
                    taken.push(lease.job.id);
                }
                taken
            })
        })
        .collect();
    let mut runs: BTreeMap<i64, usize> = BTreeMap::new();
    for w in workers {
        for id in w.join().unwrap() {
            *runs.entry(id).or_default() += 1;
        }
    }
    assert_eq!(runs.len(), JOBS, "every job was taken");
    assert!(
        runs.values().all(|&n| n == 1),
        "no job taken twice: {runs:?}"
    );
    let counts = fx.open().queue_counts().unwrap();
    assert_eq!(counts.done, JOBS as u64);
}

fn an_ended_lease_passes_the_job_on_and_fences_the_old_worker(fx: &Fixture) {
    let mut store = fx.open();
    let payload = json!({});
    let id = store.enqueue_job(&job("sha256:x", &payload)).unwrap().id;
    let dying = store
        .claim("dying", Duration::from_millis(1))
        .unwrap()
        .unwrap();
    thread::sleep(Duration::from_millis(20));
    let heir = store.claim("heir", MINUTE).unwrap().unwrap();
    assert_eq!(heir.job.id, id);
    assert_eq!(heir.job.attempts, 2);
    // The dead worker comes back: every change it tries is refused, and stores nothing.
    let record = scan("sha256:x", Some(("app", "1")), &["zlib"], vec![], 0);
    assert!(matches!(
        store.complete_scan(&dying, &record, &json!({})),
        Err(StoreError::LeaseLost { id: i, .. }) if i == id
    ));
    assert!(store.image("sha256:x").unwrap().is_none());
    assert!(matches!(
        store.complete(&dying, &json!({})),
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.extend(&dying, MINUTE),
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.release(&dying),
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.fail(&dying, "x", None),
        Err(StoreError::LeaseLost { .. })
    ));
    // The heir's lease holds: a heartbeat extends it, and its scan is stored with the job.
    let until = store.extend(&heir, MINUTE).unwrap();
    assert!(until > Timestamp::now());
    store
        .complete_scan(&heir, &record, &json!({"digest": "sha256:x"}))
        .unwrap();
    assert!(store.image("sha256:x").unwrap().is_some());
    assert_eq!(
        store.job(id).unwrap().unwrap().worker.as_deref(),
        Some("heir")
    );
    store.check().unwrap();
}

fn failures_back_off_then_die(fx: &Fixture) {
    let mut store = fx.open();
    let payload = json!({});
    let id = store.enqueue_job(&job("flaky", &payload)).unwrap().id;
    let lease = store.claim("w", MINUTE).unwrap().unwrap();
    let later = Timestamp::now().saturating_add(MINUTE);
    assert_eq!(
        store
            .fail(&lease, "registry said 503", Some(later))
            .unwrap(),
        JobState::Queued
    );
    // Backing off: not ready before `run_at`.
    assert!(store.claim("w", MINUTE).unwrap().is_none());
    let waiting = store.job(id).unwrap().unwrap();
    assert_eq!(waiting.last_error.as_deref(), Some("registry said 503"));
    assert_eq!(waiting.run_at, later);
    fx.exec(&format!(
        "UPDATE jobs SET run_at = created_at WHERE id = {id}"
    ));
    let lease = store.claim("w", MINUTE).unwrap().unwrap();
    assert_eq!(lease.job.attempts, 2);
    store.fail(&lease, "again", Some(Timestamp::now())).unwrap();
    // The third and last attempt: its lease ends, and the next claim declares it dead.
    let last = store.claim("w", Duration::from_millis(1)).unwrap().unwrap();
    assert_eq!(last.job.attempts, 3);
    thread::sleep(Duration::from_millis(20));
    assert!(store.claim("w", MINUTE).unwrap().is_none());
    let dead = store.job(id).unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("again; lease ended"));
    // A permanent failure dies at once.
    let id = store.enqueue_job(&job("bad", &payload)).unwrap().id;
    let lease = store.claim("w", MINUTE).unwrap().unwrap();
    assert_eq!(
        store.fail(&lease, "no such image", None).unwrap(),
        JobState::Dead
    );
    assert_eq!(store.job(id).unwrap().unwrap().state, JobState::Dead);
    assert_eq!(store.queue_counts().unwrap().dead, 2);
}

fn a_credential_in_the_payload_is_dropped_when_the_job_ends(fx: &Fixture) {
    let mut store = fx.open();
    let with_secret = json!({"reference": "r/a@sha256:1", "authorization": "Basic c2VjcmV0"});
    let done = store.enqueue_job(&job("a", &with_secret)).unwrap().id;
    let dead = store.enqueue_job(&job("b", &with_secret)).unwrap().id;
    let retried = store.enqueue_job(&job("c", &with_secret)).unwrap().id;
    for _ in 0..3 {
        let lease = store.claim("w", MINUTE).unwrap().unwrap();
        match lease.job.key.as_str() {
            "a" => store.complete(&lease, &json!({})).unwrap(),
            "b" => {
                store.fail(&lease, "refused", None).unwrap();
            }
            _ => {
                store
                    .fail(&lease, "503", Some(Timestamp::now().saturating_add(MINUTE)))
                    .unwrap();
            }
        }
    }
    for id in [done, dead] {
        let payload = store.job(id).unwrap().unwrap().payload;
        assert_eq!(payload, json!({"reference": "r/a@sha256:1"}), "{id}");
    }
    // A job to be retried keeps what its next run needs.
    assert_eq!(store.job(retried).unwrap().unwrap().payload, with_secret);
}

fn a_released_job_is_not_charged_an_attempt(fx: &Fixture) {
    let mut store = fx.open();
    let payload = json!({});
    let id = store.enqueue_job(&job("k", &payload)).unwrap().id;
    let lease = store.claim("stopping", MINUTE).unwrap().unwrap();
    store.release(&lease).unwrap();
    let job = store.job(id).unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 0));
    let again = store.claim("other", MINUTE).unwrap().unwrap();
    assert_eq!((again.job.id, again.job.attempts), (id, 1));
}

fn a_scan_and_its_job_commit_together(fx: &Fixture) {
    let mut store = fx.open();
    let payload = json!({"reference": "app:1"});
    let id = store.enqueue_job(&job("sha256:s", &payload)).unwrap().id;
    let lease = store.claim("w", MINUTE).unwrap().unwrap();
    // An invalid record: neither the scan nor the job's completion is written.
    let mut bad = scan("sha256:s", Some(("app", "1")), &["zlib"], vec![], 0);
    bad.inventory = serde_json::Value::Null;
    assert!(store.complete_scan(&lease, &bad, &json!({})).is_err());
    assert_eq!(store.job(id).unwrap().unwrap().state, JobState::Running);
    let record = scan(
        "sha256:s",
        Some(("app", "1")),
        &["zlib"],
        vec![finding("CVE-2026-1", "zlib", "high")],
        0,
    );
    let delta = store
        .complete_scan(&lease, &record, &json!({"digest": "sha256:s"}))
        .unwrap();
    assert_eq!(delta.new.len(), 1);
    assert_eq!(store.job(id).unwrap().unwrap().state, JobState::Done);
    assert_eq!(store.history("sha256:s").unwrap().len(), 1);
    // Done means done: the same lease cannot store it a second time.
    assert!(matches!(
        store.complete_scan(&lease, &record, &json!({})),
        Err(StoreError::LeaseLost { .. })
    ));
    store.check().unwrap();
}

fn tokens_are_kept_by_hash_and_revoked(fx: &Fixture) {
    let mut store = fx.open();
    let now = Timestamp::now();
    let ci = store.create_token("ci", "scan", "hash-ci", now).unwrap();
    assert_eq!((ci.name.as_str(), ci.scope.as_str()), ("ci", "scan"));
    assert!(matches!(
        store.create_token("ci", "read", "hash-other", now),
        Err(StoreError::TokenNameTaken { .. })
    ));
    assert!(store.create_token("bad", "root", "hash-bad", now).is_err());
    assert_eq!(store.token_by_hash("hash-ci").unwrap(), Some(ci.clone()));
    assert_eq!(store.token_by_hash("nope").unwrap(), None);
    assert!(store.revoke_token("ci", now).unwrap());
    assert!(!store.revoke_token("ci", now).unwrap());
    assert!(!store.revoke_token("nobody", now).unwrap());
    let revoked = store.token_by_hash("hash-ci").unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
    assert_eq!(store.tokens().unwrap().len(), 1);
}

fn one_worker_reads_a_layer_while_the_others_wait(fx: &Fixture) {
    let mut a = fx.open();
    let mut b = fx.open();
    let (set, layer) = ("set-1", "sha256:base");
    assert_eq!(a.layer_facts(set, layer).unwrap(), None);
    assert!(a.claim_layer(set, layer, "a", MINUTE).unwrap());
    assert!(
        a.claim_layer(set, layer, "a", MINUTE).unwrap(),
        "a claim is its holder's"
    );
    assert!(!b.claim_layer(set, layer, "b", MINUTE).unwrap());
    // Another set (another customs version's analyzers) is another layer.
    assert!(b.claim_layer("set-2", layer, "b", MINUTE).unwrap());
    a.put_layer_facts(set, layer, "{\"packages\": []}").unwrap();
    assert_eq!(
        b.layer_facts(set, layer).unwrap().as_deref(),
        Some("{\"packages\": []}")
    );
    // The put released the claim.
    assert!(b.claim_layer(set, layer, "b", MINUTE).unwrap());
    b.release_layer(set, layer, "b").unwrap();
    // A claim whose holder died expires.
    assert!(
        a.claim_layer(set, "sha256:app", "dead", Duration::from_millis(1))
            .unwrap()
    );
    thread::sleep(Duration::from_millis(20));
    assert!(b.claim_layer(set, "sha256:app", "b", MINUTE).unwrap());
    // Releasing another holder's claim does nothing.
    a.release_layer(set, "sha256:app", "a").unwrap();
    assert!(!a.claim_layer(set, "sha256:app", "a", MINUTE).unwrap());
}
