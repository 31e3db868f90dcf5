//! `rego:` rules, evaluated by `regorus` (Microsoft's Rego interpreter; there is no OPA binary
//! here): for what the YAML conditions cannot say.
//!
//! The module sees `input`:
//! ```json
//! {"findings": [FINDING, …],   // those no vendor verdict, VEX or exception in force suppresses
//!  "packages": [{"name", "version", "ecosystem", "purl", "licenses"}, …],
//!  "image": {"repository": "…" | null, "signed": true | false | null, "created": "…" | null},
//!  "now": "2026-12-01T00:00:00Z"}
//! ```
//! FINDING is a finding as the scan report writes it. The query (default `data.customs.deny`)
//! gives the violations: a set or array of messages (strings, or objects with `msg`), `true`
//! for one, and `false` or undefined for none. A module that does not compile is a mistake in
//! the policy file; one that fails to evaluate (or runs past its time) is a violation, never a
//! pass.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// A module runs at most this long per evaluation: a runaway rule must not hang the gate.
const TIME_LIMIT: Duration = Duration::from_secs(5);

/// A compiled `rego:` rule.
#[derive(Clone)]
pub struct RegoRule {
    engine: regorus::Engine,
    /// The rule path evaluated.
    pub query: String,
}

impl fmt::Debug for RegoRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegoRule")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl RegoRule {
    /// Compiles `module` (Rego v1 syntax) and checks that `query` names a rule in it.
    ///
    /// # Errors
    /// The compiler's message.
    pub fn compile(name: &str, module: &str, query: &str) -> Result<Self, String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine.set_strict_builtin_errors(true);
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: TIME_LIMIT,
            check_interval: std::num::NonZeroU32::new(1000).unwrap_or(std::num::NonZeroU32::MIN),
        });
        engine
            .add_policy(format!("{name}.rego"), module.to_owned())
            .map_err(|e| e.to_string())?;
        if !query.starts_with("data.") || query.len() <= "data.".len() {
            return Err(format!(
                "query {query:?}: a rule path, like data.customs.deny"
            ));
        }
        let rule = Self {
            engine,
            query: query.to_owned(),
        };
        // A query naming no rule of the module is a mistake now, not at the first scan.
        rule.eval(&serde_json::json!({"findings": [], "packages": [], "image": {}, "now": ""}))
            .map(|_| rule.clone())
            .or_else(|e| {
                // Other errors depend on the input, which this one is not.
                if e.contains("not a valid rule path") || e.contains("not found") {
                    Err(format!(
                        "query {query}: no rule of the module has that path ({e})"
                    ))
                } else {
                    Ok(rule)
                }
            })
    }

    /// The violation messages the query gives for `input`.
    ///
    /// # Errors
    /// What went wrong while evaluating, or a result that is not one of the shapes above.
    pub fn eval(&self, input: &Value) -> Result<Vec<String>, String> {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input.clone()));
        let value = engine
            .eval_rule(self.query.clone())
            .map_err(|e| e.to_string())?;
        if value == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json: Value = serde_json::from_str(&value.to_json_str().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let message = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("msg")
                .and_then(Value::as_str)
                .map_or_else(|| v.to_string(), str::to_owned),
            other => other.to_string(),
        };
        match json {
            Value::Bool(true) => Ok(vec![format!("{} is true", self.query)]),
            Value::Bool(false) | Value::Null => Ok(Vec::new()),
            Value::Array(items) => Ok(items.iter().map(message).collect()),
            other => Err(format!(
                "{} gave {other}: expected a set or array of messages, or a boolean",
                self.query
            )),
        }
    }
}
