//! The results: rows of one table, printed as Markdown and written as JSON.

use serde_json::{json, Value};

/// One measured number (or a word, such as "n/a") with what it is compared against.
#[derive(Clone, Debug)]
pub struct Row {
    pub scenario: String,
    pub metric: String,
    pub value: Option<f64>,
    /// Shown instead of the number when there is none ("n/a", "failed").
    pub text: Option<String>,
    pub unit: String,
    /// The goal, as people read it ("≤ 4 KiB").
    pub target: Option<String>,
    /// Whether the goal was met; None when there is no goal or nothing to compare.
    pub met: Option<bool>,
    pub note: String,
    /// A broken invariant rather than a missed target (messages lost, say): the run fails.
    pub breaks_run: bool,
}

impl Row {
    pub fn new(scenario: &str, metric: &str, value: f64, unit: &str) -> Row {
        Row {
            scenario: scenario.to_owned(),
            metric: metric.to_owned(),
            value: Some(value),
            text: None,
            unit: unit.to_owned(),
            target: None,
            met: None,
            note: String::new(),
            breaks_run: false,
        }
    }

    /// A row whose value is a word rather than a number.
    pub fn word(scenario: &str, metric: &str, text: &str) -> Row {
        Row {
            value: None,
            text: Some(text.to_owned()),
            ..Row::new(scenario, metric, 0.0, "")
        }
    }

    /// A scenario that broke: the table says so and the run fails.
    pub fn failed(scenario: &str, error: &anyhow::Error) -> Row {
        let message = format!("{error:#}").replace('\n', " ");
        let mut row = Row::word(scenario, "error", "failed");
        row.note = message.chars().take(300).collect();
        row
    }

    pub fn target(mut self, target: &str, met: bool) -> Row {
        self.target = Some(target.to_owned());
        self.met = Some(met);
        self
    }

    /// Marks the row as a correctness check: when its target is missed the run fails (CI's quick
    /// run included), whatever the timings.
    pub fn invariant(mut self) -> Row {
        self.breaks_run = self.met == Some(false);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    pub fn shown_value(&self) -> String {
        match (&self.text, self.value) {
            (Some(text), _) => text.clone(),
            (None, Some(v)) if self.unit.is_empty() => format_number(v),
            (None, Some(v)) => format!("{} {}", format_number(v), self.unit),
            (None, None) => String::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "metric": self.metric,
            "value": self.value,
            "text": self.text,
            "unit": self.unit,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        })
    }
}

/// Few significant digits, thousands separated: 1,234,567 / 123.4 / 1.23.
pub fn format_number(v: f64) -> String {
    if v.abs() >= 1_000.0 {
        let digits = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if v.fract() == 0.0 {
        // Counts (messages lost, sockets) read as counts.
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table in Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | metric | value | target | met | note |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.scenario,
            row.metric,
            row.shown_value(),
            row.target.as_deref().unwrap_or(""),
            met,
            row.note.replace('|', "/"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(1_234_567.8), "1,234,568");
        assert_eq!(format_number(999.4), "999");
        assert_eq!(format_number(12.34), "12.3");
        assert_eq!(format_number(1.234), "1.23");
    }

    #[test]
    fn the_table_has_a_line_per_row() {
        let rows = vec![
            Row::new("idle", "KiB per socket", 3.2, "KiB").target("≤ 4", true),
            Row::word("widget-size", "gzipped", "n/a"),
        ];
        let table = markdown(&rows);
        assert_eq!(table.lines().count(), 4);
        assert!(table.contains("| idle | KiB per socket | 3.20 KiB | ≤ 4 | yes |"));
    }
}
