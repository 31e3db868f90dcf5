#!/usr/bin/env bash
# Builds every fuzz target in fuzz/ and runs each briefly from a corpus seeded from
# ../shared/data (see fuzz/README.md). Any crash, hang or out-of-memory fails the script, and
# the input that caused it is copied to fuzz/regressions/<target>/, where `cargo test`
# replays it once committed.
#
#   scripts/fuzz.sh                  all targets
#   scripts/fuzz.sh tar_walk rpm_bdb only these
#
# Environment:
#   FUZZ_SECONDS      run time per target (default 13: 46 targets, 2 at a time, about 5 min)
#   FUZZ_JOBS         targets run at once (default 2, one per core here)
#   FUZZ_SANITIZER    none (default) or address; see fuzz/README.md
#   FUZZ_TARGET_DIR   cargo's target dir for the instrumented build (default
#                     $CARGO_TARGET_DIR/fuzz, else fuzz/target): instrumented artifacts must
#                     not mix with the main workspace's
#   CUSTOMS_DATA      the shared data (default ../shared/data next to the repository)
#
# The toolchain here is stable. cargo-fuzz passes nightly-only `-Z` flags to rustc (the
# sanitizers, and `-Zunstable-options` with some options), so the build runs with
# RUSTC_BOOTSTRAP=1, which lets a stable rustc accept them.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-13}"
FUZZ_JOBS="${FUZZ_JOBS:-2}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-none}"
if [[ -z "${FUZZ_TARGET_DIR:-}" ]]; then
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        FUZZ_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
    else
        FUZZ_TARGET_DIR="$root/fuzz/target"
    fi
fi
data="${CUSTOMS_DATA:-$root/../shared/data}"
corpus="$root/fuzz/corpus"
artifacts="$root/fuzz/artifacts"
regressions="$root/fuzz/regressions"

if ! cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

mapfile -t all_targets < <(cd fuzz && cargo fuzz list)
if (($# > 0)); then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi

# Every directory under fuzz/regressions must belong to a target, or its inputs would never
# be replayed.
if [[ -d "$regressions" ]]; then
    for dir in "$regressions"/*/; do
        name="$(basename "$dir")"
        if [[ ! " ${all_targets[*]} " == *" $name "* ]]; then
            echo "fuzz/regressions/$name: no fuzz target of that name" >&2
            exit 1
        fi
    done
fi

echo "building ${#targets[@]} fuzz targets (sanitizer: $FUZZ_SANITIZER)"
build_start=$SECONDS
# `cargo fuzz build` builds one target or all of them.
build_one=()
((${#targets[@]} == 1)) && build_one=("${targets[0]}")
(
    cd fuzz
    RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer "$FUZZ_SANITIZER" \
        --target-dir "$FUZZ_TARGET_DIR" "${build_one[@]}"
)
echo "build: $((SECONDS - build_start)) s, $(du -sh "$FUZZ_TARGET_DIR" 2>/dev/null | cut -f1) in $FUZZ_TARGET_DIR"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$FUZZ_TARGET_DIR/$triple/release"

# ---------------------------------------------------------------------------------------------
# Seeds: selected from the shared data at run time (nothing large is committed); the few
# formats the data has no sample of get the small hand-written files in fuzz/seeds/.

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }

# seed TARGET FILE...: copy files (existing, non-empty, at most 1 MiB) into the corpus.
seed() {
    local t="$1" f
    shift
    mkdir -p "$corpus/$t"
    for f in "$@"; do
        [[ -f "$f" && -s "$f" ]] || continue
        (($(stat -c %s "$f") <= 1048576)) || continue
        cp "$f" "$corpus/$t/seed-$(sha1sum "$f" | cut -c1-16)"
    done
}

# seed_head TARGET LINES FILE...: the first LINES lines of each file.
seed_head() {
    local t="$1" n="$2" f
    shift 2
    for f in "$@"; do
        [[ -f "$f" ]] || continue
        head -n "$n" "$f" >"$scratch/head"
        seed "$t" "$scratch/head"
    done
}

prepare_seeds() {
    local fx="$root/crates/customs-catalog/tests/fixtures/lang"
    local img="$data/images/format-fixtures"
    local adv="$data/advisories"
    local pkg="$data/packagedb"

    # Hand-written seeds first, for every target that has some.
    local d
    for d in "$root"/fuzz/seeds/*/; do
        seed "$(basename "$d")" "$d"*
    done

    # Image archives and what is inside them: layers, manifests, configs.
    mkdir -p "$scratch/img"
    local a n=0
    for a in "$img"/docker-archive/*.tar "$img"/oci-layout/*.tar; do
        n=$((n + 1))
        mkdir -p "$scratch/img/$n"
        tar -xf "$a" -C "$scratch/img/$n" 2>/dev/null || true
    done
    for d in "$img"/oci-layout/*/; do
        # An OCI layout directory becomes an oci-archive.
        n=$((n + 1))
        tar -cf "$scratch/img/oci-$n.tar" -C "$d" . 2>/dev/null || true
        cp -r "$d" "$scratch/img/$n" 2>/dev/null || true
    done
    seed image_archive "$img"/docker-archive/*.tar "$img"/oci-layout/*.tar "$scratch"/img/oci-*.tar
    seed image_manifest "$img"/manifests/*.json
    local f
    while IFS= read -r -d '' f; do
        case "$(head -c 1 "$f" | tr -d '\0')" in
            '{' | '[')
                if grep -q '"rootfs"' "$f"; then
                    seed image_config "$f"
                    seed config_checks "$f"
                elif grep -q '"layers"\|"manifests"\|"schemaVersion"' "$f"; then
                    seed image_manifest "$f"
                fi
                ;;
            *)
                # A layer: tar magic at 257.
                if [[ "$(head -c 262 "$f" | tail -c 5 | tr -d '\0')" == ustar ]]; then
                    seed tar_walk "$f"
                fi
                ;;
        esac
    done < <(find "$scratch/img" -type f -size -1025k -print0)

    # A layer that holds every kind of file the analyzers read, with whiteouts of each kind.
    local layer="$scratch/layer"
    mkdir -p "$layer/etc" "$layer/lib/apk/db" "$layer/var/lib/dpkg" "$layer/var/lib/rpm" \
        "$layer/app/node_modules/x" "$layer/usr/lib/python3/dist-packages/x-1.0.dist-info" \
        "$layer/gone" "$layer/opaque"
    if tar -xzOf "$data/images/real/alpine-310.tar.gz" --wildcards '*/layer.tar' \
        >"$scratch/alpine-layer.tar" 2>/dev/null; then
        tar -xf "$scratch/alpine-layer.tar" -C "$scratch" lib/apk/db/installed etc/os-release \
            2>/dev/null || true
        seed apk_installed "$scratch/lib/apk/db/installed"
        seed os_release "$scratch/etc/os-release" /etc/os-release
        cp "$scratch/lib/apk/db/installed" "$layer/lib/apk/db/installed" 2>/dev/null || true
        cp "$scratch/etc/os-release" "$layer/etc/os-release" 2>/dev/null || true
    fi
    head -n 120 "$pkg/dpkg/texlive.status" >"$layer/var/lib/dpkg/status"
    cp "$root/crates/customs/tests/fixtures/rhel9/rpmdb.sqlite" "$layer/var/lib/rpm/rpmdb.sqlite"
    cp "$fx/npm/lock-v3/package-lock.json" "$layer/app/package-lock.json"
    cp "$fx/npm/debian-app/node_modules/semver/package.json" "$layer/app/node_modules/x/"
    cp "$fx/python/debian-app/site-packages/idna-2.10.dist-info/METADATA" \
        "$layer/usr/lib/python3/dist-packages/x-1.0.dist-info/"
    cp "$fx/go/gosum/go.mod" "$fx/go/gosum/go.sum" "$fx/cargo/v3-regex-1.5.4.Cargo.lock" "$layer/app/"
    cp "$fx/ruby/bundler/Gemfile.lock" "$fx/php/composer2/composer.lock" \
        "$fx/dotnet/packageurl-dotnet-tests/packages.lock.json" "$layer/app/"
    : >"$layer/gone/.wh.file"
    : >"$layer/opaque/.wh..wh..opq"
    : >"$layer/.wh.etc"
    ln -s ../etc/os-release "$layer/app/os-release-link"
    tar -cf "$scratch/layer.tar" -C "$layer" .
    tar --format=gnu -cf "$scratch/layer-gnu.tar" -C "$layer" .
    seed tar_walk "$scratch/layer.tar" "$scratch/layer-gnu.tar"

    # Package databases.
    seed dpkg_status "$pkg/dpkg/texlive.status"
    seed_head dpkg_status 200 "$pkg/dpkg/texlive.status"
    seed rpm_bdb "$pkg/rpm/rhel8-libuuid-Packages.bdb"
    seed rpm_sqlite "$root/crates/customs/tests/fixtures/rhel9/rpmdb.sqlite"
    if have sqlite3; then
        # The whole Mariner database is 3.6 MB: keep its three smallest packages.
        cp "$pkg/rpm/mariner-2.0-rpmdb.sqlite" "$scratch/small.sqlite"
        sqlite3 "$scratch/small.sqlite" "PRAGMA journal_mode=DELETE;
            DELETE FROM Packages WHERE hnum NOT IN
                (SELECT hnum FROM Packages ORDER BY length(blob) LIMIT 3);
            VACUUM;" >/dev/null
        seed rpm_sqlite "$scratch/small.sqlite"
        mkdir -p "$scratch/headers"
        (cd "$scratch/headers" && sqlite3 "$pkg/rpm/mariner-2.0-rpmdb.sqlite" \
            "SELECT writefile(hnum || '.hdr', blob) FROM Packages
             ORDER BY length(blob) LIMIT 40;" >/dev/null)
        seed rpm_header "$scratch"/headers/*.hdr
    fi
    # NDB: the SUSE database is 1.3 MB; its first 256 KiB hold the slot pages and the first
    # blobs, which is what a mutation needs.
    head -c 262144 "$pkg/rpm/sle15-bci-Packages.db" >"$scratch/ndb"
    seed rpm_ndb "$scratch/ndb"

    # Language files.
    seed lang_python "$fx"/python/*/poetry.lock "$fx"/python/*/Pipfile.lock "$fx"/python/*/uv.lock \
        "$fx"/python/requirements/requirements.txt "$fx"/python/sample/requirements/requirements.in \
        "$fx"/python/debian-app/site-packages/*/METADATA "$fx"/python/egg-info/*/PKG-INFO \
        "$fx"/python/egg-info/wsgiref.egg-info
    seed lang_npm "$fx"/npm/*/package-lock.json "$fx"/npm/*/yarn.lock "$fx"/npm/*/pnpm-lock.yaml \
        "$fx"/npm/debian-app/node_modules/*/package.json "$fx"/npm/sample/package.json
    seed lang_cargo_lock "$fx"/cargo/*.Cargo.lock "$root/Cargo.lock"
    seed lang_go_mod "$fx"/go/gosum/go.mod "$fx"/go/gosum/go.sum "$fx"/go/src/go.mod \
        "$fx"/go/src/vendor/modules.txt
    seed lang_ruby "$fx"/ruby/debian/*.gemspec "$fx"/ruby/rubygems/*.gemspec "$fx"/ruby/*/Gemfile.lock
    seed lang_php "$fx"/php/composer1/installed.json "$fx"/php/composer2/composer.lock \
        "$fx"/php/composer2/vendor/composer/installed.json
    seed lang_dotnet "$fx"/dotnet/*/*.json
    # Secrets: the built-in rules (every rule's examples are in them) and texts that hold
    # none; the rule file itself seeds the user-rule target.
    seed secret_scan "$root/crates/customs-detect/rules/secrets.toml" "$root/docs/secrets.md" \
        "$fx/ruby/bundler/Gemfile.lock"
    seed secret_rules "$root/crates/customs-detect/rules/secrets.toml"
    # Debian's own small jars and POMs (liblog4j2-java, maven-repo-helper's repository).
    seed java_archive $(ls -S /usr/share/java/*.jar 2>/dev/null | tail -n 8)
    seed lang_java $(find /usr/share/maven-repo -name '*.pom' 2>/dev/null | sort | head -n 20)
    for f in "$fx"/go/*.sparse.gz; do
        gzip -dc "$f" >"$scratch/go-$(basename "$f" .gz)" 2>/dev/null || true
        seed go_buildinfo "$scratch/go-$(basename "$f" .gz)"
    done
    if have objcopy && have python3; then
        # A cargo-auditable section (zlib-compressed JSON) added to a small ELF.
        python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(
            b"{\"packages\":[{\"name\":\"app\",\"version\":\"0.1.0\",\"source\":\"local\",\"root\":true,"
            b"\"dependencies\":[1]},{\"name\":\"regex\",\"version\":\"1.5.4\",\"source\":\"crates.io\","
            b"\"kind\":\"runtime\"}]}"))' >"$scratch/dep-v0"
        objcopy --add-section .dep-v0="$scratch/dep-v0" "$(command -v true)" "$scratch/auditable" \
            2>/dev/null && seed cargo_auditable "$scratch/auditable"
    fi

    # Advisory feeds: a slice of each (the fuzzer mutates structure, not volume).
    seed feed_osv $(find "$adv/osv-go/data/osv" -name '*.json' | sort | head -n 60) \
        $(find "$adv/osv-pypa-yaml/vulns" -name '*.yaml' | sort | head -n 60) \
        "$adv"/osv-records/*.yaml "$root"/crates/customs/tests/fixtures/ghsa/*.json
    seed feed_rustsec $(find "$adv/rustsec/crates" -name '*.md' | sort | head -n 100)
    seed_head feed_debian_list 300 "$adv/debian-tracker/data/DSA/list" \
        "$adv/debian-tracker/data/DLA/list"
    seed feed_debian_list "$adv/debian-tracker/format-samples/CVE-list-excerpt"
    seed feed_debian_json "$adv"/debian-tracker-json/*.json
    seed feed_ubuntu $(find "$adv/ubuntu-uct/active" -maxdepth 1 -name 'CVE-*' | sort | head -n 100)
    seed feed_redhat "$adv"/redhat-csaf-vex/*.json
    seed feed_alpine "$adv"/alpine-secdb-json/*.json
    seed_head feed_alpine 400 $(find "$adv/alpine-secdb-yaml" -name '*.yaml' | sort)
    seed feed_nvd "$adv"/nvd/*.json
    seed_head feed_kev 40 "$adv/kev/known_exploited_vulnerabilities.csv"
    if have python3; then
        python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["vulnerabilities"] = d["vulnerabilities"][:20]
json.dump(d, open(sys.argv[2], "w"), indent=2)' "$adv/kev/known_exploited_vulnerabilities.json" \
            "$scratch/kev.json" && seed feed_kev "$scratch/kev.json"
    fi
    seed feed_epss "$adv"/epss/*.csv

    # Sigstore bundles: the conformance cases, valid and broken.
    seed sigstore_bundle "$data"/signing/conformance/bundle-verify/*/bundle.sigstore.json
    seed sigstore_bundle "$data"/signing/cosign/oci-bundle/oci-attestation.sigstore.json
    # cosign's legacy signatures: .sig manifests, and "payload NUL Rekor-entry annotation" made
    # from containers/image's keyless and Rekor-logged signatures.
    seed cosign_signature "$data"/signing/cosign/connaisseur/securesystemsengineering/testimage/manifests/*.sig.json \
        "$data"/signing/cosign/attestations/*.jsonl
    if have python3; then
        local f n=0
        for f in "$data"/signing/cosign/containers-image/images/*rekor*/signature-1; do
            n=$((n + 1))
            python3 -c 'import base64, json, sys
raw = open(sys.argv[1], "rb").read(); d = json.loads(raw[raw.index(b"\n") + 1:])
open(sys.argv[2], "wb").write(base64.b64decode(d["payload"]) + b"\0"
    + d["annotations"]["dev.sigstore.cosign/bundle"].encode())' "$f" "$scratch/legacy-$n" &&
                seed cosign_signature "$scratch/legacy-$n"
        done
    fi

    # Versions: each assertion of the ordering vectors becomes "a\nb".
    local eco file
    for eco in deb:debian rpm:redhat apk:alpine pypi:pypi npm:semver cargo:semver go:semver \
        maven:maven rubygems:rubygems composer:packagist nuget:nuget; do
        file="$data/versions/osv-semantic/${eco#*:}-versions.txt"
        [[ -f "$file" ]] || continue
        mkdir -p "$scratch/v-${eco%%:*}"
        grep -E '^[^#].* (<|=|>) ' "$file" | awk 'NR % 7 == 1' | head -n 150 |
            awk -v dir="$scratch/v-${eco%%:*}" '{
                split($0, p, / (<|=|>) /); printf "%s\n%s", p[1], p[2] > (dir "/" NR); close(dir "/" NR)
            }'
        seed "version_${eco%%:*}" "$scratch/v-${eco%%:*}"/*
    done
}

echo "seeding corpora from $data"
prepare_seeds

# ---------------------------------------------------------------------------------------------
# Runs.

results="$scratch/results"
mkdir -p "$results"

run_one() {
    local t="$1" log="$results/$1.log" rc=0 start=$SECONDS
    mkdir -p "$corpus/$t" "$artifacts/$t"
    "$bin_dir/$t" "$corpus/$t" \
        -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/$t/" >"$log" 2>&1 || rc=$?
    local secs=$((SECONDS - start))
    local execs cov ft corp
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    # The last status line: "#N  DONE|pulse|NEW ... cov: C ft: F corp: N/size ...".
    cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)"
    ft="$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)"
    corp="$(grep -oE 'corp: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)"
    local status=ok
    if ((rc != 0)); then
        status="FAILED (exit $rc)"
        mkdir -p "$regressions/$t"
        local a
        for a in "$artifacts/$t"/crash-* "$artifacts/$t"/timeout-* "$artifacts/$t"/oom-* \
            "$artifacts/$t"/leak-*; do
            [[ -f "$a" ]] || continue
            cp "$a" "$regressions/$t/"
            status="$status, input: fuzz/regressions/$t/$(basename "$a")"
        done
    fi
    printf '%-18s %12s %7s %7s %7s %5ss  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$secs" "$status" >"$results/$t.row"
    if ((rc != 0)); then
        {
            echo "---- $t: the end of libFuzzer's output"
            grep -v '^#[0-9]' "$log" | tail -n 40
        } >"$results/$t.fail"
    fi
}

echo "running ${#targets[@]} targets, $FUZZ_SECONDS s each, $FUZZ_JOBS at a time"
run_start=$SECONDS
running=0
for t in "${targets[@]}"; do
    if ((running >= FUZZ_JOBS)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

printf '\n%-18s %12s %7s %7s %7s %6s  %s\n' target execs cov ft corpus time status
failed=0
for t in "${targets[@]}"; do
    cat "$results/$t.row"
    [[ -f "$results/$t.fail" ]] && failed=$((failed + 1))
done
echo "runs: $((SECONDS - run_start)) s"
for t in "${targets[@]}"; do
    [[ -f "$results/$t.fail" ]] && cat "$results/$t.fail"
done
if ((failed > 0)); then
    echo "$failed fuzz target(s) failed; commit the inputs under fuzz/regressions/ with the fix" >&2
    exit 1
fi
