#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    customs_catalog::fuzz::secret_scan(data);
});
