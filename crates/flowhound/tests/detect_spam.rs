//! `spam`: a workstation delivering mail straight to many external mail servers (SMTP, tcp/25) is
//! a spam bot; the network's relay (a server of tcp/25 to internal clients) is not, a host that
//! delivered as much in normal traffic is held low "as in the baseline", and a client that reached
//! three mail servers is nothing.

mod detect_support;

use detect_support::p2p::{clients, peers, Rng, T0};
use detect_support::{csv_run, csv_self_run, Row, CONFIG};
use flowhound::config::Config;
use flowhound::findings::{Finding, Severity};

/// A flow with its protocol.
type Flow = (&'static str, Row);

const BOT: &str = "192.168.1.20";
const RELAY: &str = "192.168.1.25";
const MTA: &str = "192.168.1.30";
const SENDER: &str = "192.168.1.31";

fn config() -> Config {
    Config::from_toml(CONFIG, "t").unwrap()
}

fn spam_of(found: &[Finding], host: &str) -> Option<Finding> {
    found
        .iter()
        .find(|f| f.kind == "spam" && f.hosts == [host])
        .cloned()
}

fn smtp(t: i64, src: &str, dst: &str, answered: bool) -> Flow {
    let (up, down) = if answered { (9_000, 600) } else { (120, 0) };
    ("tcp", (t, src.into(), dst.into(), 25, up, down))
}

/// `hours` from `t0`: browsing clients that send their mail through the relay (tcp/25), the
/// relay delivering to 200 external servers, a user whose mail client reached three providers on
/// tcp/25, and, with `mta`, a host delivering a few messages every 5 minutes (its own MTA).
fn day(rng: &mut Rng, t0: i64, hours: i64, mta: bool) -> Vec<Flow> {
    let mut v = clients(rng, t0, hours);
    let outside = peers(rng, 200);
    for k in 0..hours * 12 {
        let t = t0 + k * 300;
        v.push(smtp(
            t + 5,
            &format!("192.168.1.{}", 10 + k % 4),
            RELAY,
            true,
        ));
        let mx = &outside[rng.below(200) as usize].0;
        v.push(smtp(t + 20, RELAY, mx, true));
        if mta {
            for j in 0..4 {
                let mx = &outside[rng.below(60) as usize].0;
                v.push(smtp(t + 40 + j, MTA, mx, true));
            }
        }
    }
    for (k, mx) in ["212.27.48.10", "64.233.184.27", "98.136.96.75"]
        .iter()
        .enumerate()
    {
        v.push(smtp(t0 + 600 * k as i64, SENDER, mx, true));
    }
    v
}

/// 120 messages to 80 servers over two hours from the bot, a third unanswered.
fn spam_run(rng: &mut Rng, t0: i64) -> Vec<Flow> {
    let servers = peers(rng, 80);
    (0..120)
        .map(|i| {
            let mx = &servers[if i < 80 { i } else { rng.below(80) as usize }].0;
            smtp(t0 + 60 * i as i64, BOT, mx, i % 3 != 0)
        })
        .collect()
}

fn sorted(mut v: Vec<Flow>) -> Vec<Flow> {
    v.sort_by_key(|r| r.1 .0);
    v
}

/// Normal (10 hours, with or without the MTA) and the next day's test with the spam run.
fn periods(mta_in_normal: bool) -> (Vec<Flow>, Vec<Flow>) {
    let mut rng = Rng(11);
    let normal = sorted(day(&mut rng, T0, 10, mta_in_normal));
    let t1 = T0 + 86_400;
    let mut test = day(&mut rng, t1, 10, true);
    test.extend(spam_run(&mut rng, t1 + 3 * 3600));
    (normal, sorted(test))
}

#[test]
fn a_spam_bot_is_reported_and_the_relay_and_a_known_mta_are_not() {
    let (normal, test) = periods(true);
    let found = csv_run(&normal, &test, &config(), &["spam"]);
    let f = spam_of(&found, BOT).expect("the bot is reported");
    assert_eq!(f.severity, Severity::High, "{}", f.evidence.explanation);
    let e = &f.evidence.explanation;
    assert!(e.contains("80 external mail servers"), "{e}");
    assert!(e.contains("120 connections, 33 % unanswered"), "{e}");
    assert!(
        e.contains(&format!("the network's mail servers ({RELAY})")),
        "{e}"
    );
    assert_eq!(f.flows, 120);
    assert!(spam_of(&found, RELAY).is_none(), "the relay delivers mail");
    assert!(spam_of(&found, SENDER).is_none(), "three providers");
    let mta = spam_of(&found, MTA).expect("the MTA is listed");
    assert_eq!(mta.severity, Severity::Low, "{}", mta.evidence.explanation);
    assert!(mta.evidence.explanation.contains("as in the baseline"));
}

#[test]
fn a_host_that_starts_delivering_mail_is_reported() {
    let (normal, test) = periods(false);
    let found = csv_run(&normal, &test, &config(), &["spam"]);
    let mta = spam_of(&found, MTA).expect("new delivery is reported");
    assert!(
        mta.severity >= Severity::High,
        "{}",
        mta.evidence.explanation
    );
    assert!(!mta.evidence.explanation.contains("as in the baseline"));
}

#[test]
fn single_capture_mode_reports_the_bot_not_the_relay() {
    let (_, test) = periods(true);
    let found = csv_self_run(&test, &config(), &["spam"]);
    let f = spam_of(&found, BOT).expect("the bot is reported");
    assert_eq!(f.severity, Severity::High);
    assert!(spam_of(&found, RELAY).is_none());
    assert!(spam_of(&found, SENDER).is_none());
}
