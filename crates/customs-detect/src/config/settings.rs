//! The checks on the config's own settings and the installed packages: `User`,
//! `Healthcheck`, `ExposedPorts` and a `sudo`-like package.

use std::collections::BTreeSet;

use super::{
    ConfigInput, EXPOSE_SSH, EXPOSE_TELNET, NO_HEALTHCHECK, ROOT_USER, SUDO_INSTALLED,
    config_location, detection, shown,
};
use crate::Detection;

// ---------------------------------------------------------------------------------------------
// User

pub(super) fn root_user(input: &ConfigInput, out: &mut Vec<Detection>) {
    let user = input.user.as_deref().unwrap_or("").trim();
    let (message, evidence) = if user.is_empty() {
        (
            "The image runs as root: no USER is set. Add a USER with a non-zero uid.".to_owned(),
            None,
        )
    } else {
        let name = user.split(':').next().unwrap_or(user);
        if name != "root" && name.parse::<u64>() != Ok(0) {
            return;
        }
        let user = shown(user);
        (
            format!(
                "The image runs as root: USER is {user}. Set USER to a user with a non-zero uid."
            ),
            Some(format!("User={user}")),
        )
    };
    out.push(detection(
        &ROOT_USER,
        message,
        config_location("config:User".to_owned()),
        evidence,
    ));
}

// ---------------------------------------------------------------------------------------------
// Healthcheck, ports, sudo

pub(super) fn healthcheck(input: &ConfigInput, out: &mut Vec<Detection>) {
    let message = match input.healthcheck.as_deref() {
        None | Some([]) => "The image declares no HEALTHCHECK, so the runtime cannot tell a hung \
                            container from a working one; add a HEALTHCHECK that probes the service."
            .to_owned(),
        Some([first, ..]) if first.eq_ignore_ascii_case("NONE") => {
            "The image disables its health check (HEALTHCHECK NONE), so the runtime cannot tell a \
             hung container from a working one; add a HEALTHCHECK that probes the service."
                .to_owned()
        }
        Some(_) => return,
    };
    out.push(detection(
        &NO_HEALTHCHECK,
        message,
        config_location("config:Healthcheck".to_owned()),
        None,
    ));
}

/// `PORT[/PROTO]` or `LOW-HIGH[/PROTO]` as a TCP range; `None` for UDP, SCTP or nonsense.
fn tcp_ports(spec: &str) -> Option<(u16, u16)> {
    let (ports, proto) = spec.trim().split_once('/').unwrap_or((spec.trim(), "tcp"));
    if !proto.trim().eq_ignore_ascii_case("tcp") {
        return None;
    }
    let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
    let (low, high) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
    (low <= high).then_some((low, high))
}

pub(super) fn exposed_ports(input: &ConfigInput, out: &mut Vec<Detection>) {
    let mut seen = BTreeSet::new();
    for spec in &input.exposed_ports {
        let Some((low, high)) = tcp_ports(spec) else {
            continue;
        };
        let shown_spec = if low == high {
            format!("{low}/tcp")
        } else {
            format!("{low}-{high}/tcp")
        };
        for (port, info, service, advice) in [
            (
                22,
                &EXPOSE_SSH,
                "SSH",
                "drop the SSH server and use `docker exec` or your orchestrator to get a shell",
            ),
            (
                23,
                &EXPOSE_TELNET,
                "telnet, which sends passwords in clear text",
                "remove the telnet server and the EXPOSE",
            ),
        ] {
            if (low..=high).contains(&port) && seen.insert((info.code, shown_spec.clone())) {
                out.push(detection(
                    info,
                    format!(
                        "The image exposes port {shown_spec}, the port of {service}; {advice}."
                    ),
                    config_location(format!("config:ExposedPorts {shown_spec}")),
                    Some(format!("EXPOSE {}", shown(spec.trim()))),
                ));
            }
        }
    }
}

pub(super) fn sudo(input: &ConfigInput, out: &mut Vec<Detection>) {
    let mut seen = BTreeSet::new();
    for name in &input.packages {
        let name = name.trim();
        if !["sudo", "sudo-ldap", "doas", "opendoas"].contains(&name) || !seen.insert(name) {
            continue;
        }
        out.push(detection(
            &SUDO_INSTALLED,
            format!(
                "The OS package {name} is installed, which can hand root back to a process in the \
                 container; remove it and set the right USER instead (or switch users in the \
                 entrypoint with gosu or su-exec)."
            ),
            config_location(format!("package:{name}")),
            None,
        ));
    }
}
