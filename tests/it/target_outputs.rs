//! What the outputs say about targets: `summary.json`'s `distinct_ips` per target group (a
//! replacement task brings a new private IP) and `events.csv`'s registration rows, which
//! name the target as `IP:port` (the target group's `port`).

use std::path::Path;

use serde_json::Value;

/// Runs `lbsim run scenarios/rent-a-room.toml <extra>`; returns summary.json and the
/// `detail` of each `target_registered` row of events.csv.
fn run(extra: &[&str]) -> (Value, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rent-a-room.toml");
    let mut args = vec!["run", scenario.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap(), "-q"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_path(out.join("events.csv")).unwrap();
    let registered = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[1] == "target_registered")
        .map(|r| r[6].to_string())
        .collect();
    (summary, registered)
}

/// rent-a-room: one task, one crash, one replacement with a new address: 2 distinct IPs;
/// with two tasks, 3. The registration rows show each target's `IP:port`.
#[test]
fn distinct_ips_count_a_crash_replacement_and_rows_show_ip_and_port() {
    let (s, registered) = run(&[]);
    assert_eq!(s["target_groups"][0]["distinct_ips"], 2);
    assert_eq!(
        registered,
        [
            "(service web) registered 1 targets in (target-group web): 10.0.0.4:80.",
            "(service web) registered 1 targets in (target-group web): 10.0.0.5:80.",
        ]
    );
    let (s, registered) = run(&["--set", "services.web.desired_count=2"]);
    assert_eq!(s["target_groups"][0]["distinct_ips"], 3);
    assert_eq!(registered.len(), 3);
    let (_, registered) = run(&["--set", "target_groups.web.port=8080"]);
    assert!(
        registered[0].ends_with(": 10.0.0.4:8080."),
        "{registered:?}"
    );
}

/// A bad `port` is an error naming the field and the range; the default is 80.
#[test]
fn target_port_is_validated() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rent-a-room.toml"),
    )
    .unwrap();
    let load = |sets: &[&str]| crate::support::load_text("rent-a-room.toml", &base, sets);
    assert_eq!(load(&[]).unwrap().target_groups[0].port, 80);
    assert_eq!(
        load(&["target_groups.web.port=65535"])
            .unwrap()
            .target_groups[0]
            .port,
        65535
    );
    for bad in ["0", "65536", "-1"] {
        let e = load(&[&format!("target_groups.web.port={bad}")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("target_groups.0.port") && e.contains("allowed 1–65535"),
            "{bad}: {e}"
        );
    }
    assert!(load(&["target_groups.web.port=\"http\""]).is_err());
}
