#![no_main]

use libfuzzer_sys::fuzz_target;

// SBOMs in (CycloneDX, SPDX, syft JSON): whatever the bytes, an inventory or an error.
fuzz_target!(|data: &[u8]| {
    customs_report::fuzz::sbom_read(data);
});
