#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    customs_sign::fuzz::sigstore_bundle(data);
});
