//! customs-http against real servers: a scripted origin on loopback (plain and TLS, `origin.rs`)
//! for the retry rules, and a real forward proxy (Debian's tinyproxy, `proxy.rs`) for the proxy
//! rules. No mocks of the client side: every request goes through reqwest and the kernel.

mod origin;
mod proxy;
mod retries;
mod tls;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use customs_http::{HttpOptions, Observer, ProxyConfig, RetryPolicy, Transport};

/// Every retry the transport announced: (target, retry number, delay, reason).
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<(String, u32, Duration, String)>>);

impl Observer for Recorder {
    fn retrying(&self, target: &str, retry: u32, delay: Duration, why: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
            target.to_owned(),
            retry,
            delay,
            why.to_owned(),
        ));
    }
}

impl Recorder {
    pub(crate) fn events(&self) -> Vec<(String, u32, Duration, String)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Options for tests: no proxy from the environment (it is the whole process's), short
/// waits, and a recorder.
pub(crate) fn options(retries: u32) -> (HttpOptions, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let opts = HttpOptions {
        proxy: ProxyConfig::none(),
        retry: RetryPolicy {
            retries,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(10),
        observer: Some(Arc::clone(&rec) as Arc<dyn Observer>),
        ..HttpOptions::default()
    };
    (opts, rec)
}

pub(crate) fn transport(opts: HttpOptions) -> Transport {
    origin::crypto();
    Transport::new(opts).expect("build the transport")
}
