//! The outcome of a run as a scenario × SDK matrix, written as Markdown (for
//! people and CI summaries) and JSON (for tools).

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::catalog::Scenario;

/// One cell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// Every assertion held.
    Pass,
    /// The first assertion that did not hold.
    Fail {
        /// What went wrong.
        reason: String,
    },
    /// Not runnable against this target.
    Skipped {
        /// Why.
        reason: String,
    },
    /// The catalog does not list this SDK for the scenario.
    #[serde(rename = "not-listed")]
    NotListed,
}

/// Rows in catalog order, columns in `--drivers` order.
#[derive(Debug)]
pub struct Matrix {
    sdks: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    id: String,
    proves: String,
    outcomes: Vec<Outcome>,
}

impl Matrix {
    /// An empty matrix over `sdks`.
    pub fn new(sdks: Vec<String>) -> Self {
        Self {
            sdks,
            rows: Vec::new(),
        }
    }

    /// Adds a scenario's row (one outcome per SDK, in order).
    pub fn push(&mut self, scenario: &Scenario, outcomes: Vec<Outcome>) {
        self.rows.push(Row {
            id: scenario.id.clone(),
            proves: scenario.proves.clone(),
            outcomes,
        });
    }

    /// (passed, failed, skipped) cells.
    pub fn counts(&self) -> (usize, usize, usize) {
        let cells = || self.rows.iter().flat_map(|r| &r.outcomes);
        let count = |f: fn(&Outcome) -> bool| cells().filter(|o| f(o)).count();
        (
            count(|o| matches!(o, Outcome::Pass)),
            count(|o| matches!(o, Outcome::Fail { .. })),
            count(|o| matches!(o, Outcome::Skipped { .. })),
        )
    }

    /// The Markdown table, then each failure and skip with its reason.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "| scenario | {} |\n|---|{}\n",
            self.sdks.join(" | "),
            "---|".repeat(self.sdks.len())
        );
        let mut notes = String::new();
        for Row { id, outcomes, .. } in &self.rows {
            let cells: Vec<&str> = outcomes
                .iter()
                .map(|o| match o {
                    Outcome::Pass => "pass",
                    Outcome::Fail { .. } => "**FAIL**",
                    Outcome::Skipped { .. } => "skipped",
                    Outcome::NotListed => "–",
                })
                .collect();
            out += &format!("| {id} | {} |\n", cells.join(" | "));
            // One note per distinct reason, naming every SDK it applies to.
            let mut reasons: Vec<(&str, &str, Vec<&str>)> = Vec::new();
            for (sdk, o) in self.sdks.iter().zip(outcomes) {
                let (label, reason) = match o {
                    Outcome::Fail { reason } => ("FAIL", reason),
                    Outcome::Skipped { reason } => ("skipped", reason),
                    _ => continue,
                };
                match reasons
                    .iter_mut()
                    .find(|(l, r, _)| *l == label && *r == reason)
                {
                    Some((_, _, sdks)) => sdks.push(sdk),
                    None => reasons.push((label, reason, vec![sdk])),
                }
            }
            for (label, reason, sdks) in reasons {
                notes += &format!("- {label} {id} [{}]: {reason}\n", sdks.join(", "));
            }
        }
        if !notes.is_empty() {
            out += "\n";
            out += &notes;
        }
        out
    }

    /// The matrix as JSON: `{sdks, scenarios: [{id, proves, results: {sdk:
    /// outcome}}], passed, failed, skipped}`.
    pub fn json(&self) -> serde_json::Value {
        let (passed, failed, skipped) = self.counts();
        let scenarios: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                let results: serde_json::Map<_, _> = self
                    .sdks
                    .iter()
                    .zip(&r.outcomes)
                    .map(|(sdk, o)| (sdk.clone(), json!(o)))
                    .collect();
                json!({ "id": r.id, "proves": r.proves, "results": results })
            })
            .collect();
        json!({
            "sdks": self.sdks,
            "scenarios": scenarios,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
        })
    }

    /// Writes `matrix.md` and `matrix.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let io = |e: std::io::Error| format!("{}: {e}", dir.display());
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(dir.join("matrix.md"), self.markdown()).map_err(io)?;
        let json = serde_json::to_string_pretty(&self.json()).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("matrix.json"), json + "\n").map_err(io)
    }
}
