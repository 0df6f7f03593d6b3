//! The cluster jobs (`flowhound::distributed`: learning, whole-input statistics and detection as
//! DataFusion plans partitioned by host shard) run on a local DataFusion session give what the
//! in-memory analysis gives: the same baseline (JSON), the same findings. The Ballista run of the same
//! plans is tested through the binary (flowhound-cli/tests/cluster_analyze_cli.rs).

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flowhound::baseline::{learn, Baseline};
use flowhound::config::Config;
use flowhound::detect::flows::Flows;
use flowhound::detect::{run, DetectCtx};
use flowhound::distributed::spec::{GeoFiles, JobSpec, Task};
use flowhound::distributed::{
    job_frame, job_query, nets_text, register, run_query, task, Jobs, Query,
};
use flowhound::findings::Finding;
use flowhound::ingest::{read_all, ReadOptions};
use flowhound::net::{Cidr, InternalNets};
use flowhound_gen::GenConfig;
use flowhound_geo::GeoStack;
use std::path::Path;

const CONFIG: &str = "[analysis]\nmin_severity = \"low\"\n";

/// A finding as comparable text: every serialised field (rows are numbered per run, so left out).
fn text(f: &Finding) -> String {
    serde_json::to_string(f).unwrap()
}

/// `files` as canonical flowhound Parquet (what `flowhound convert` writes; the cluster reads that),
/// registered as table `name`.
async fn table(ctx: &SessionContext, name: &str, files: &[String]) {
    let (batches, _) = read_all(files, &ReadOptions::default()).unwrap();
    let path = format!("{}.canonical.parquet", files[0]);
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        flowhound::schema::flow_schema(),
        None,
    )
    .unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
    let df = ctx
        .read_parquet(vec![path], ParquetReadOptions::default())
        .await
        .unwrap();
    ctx.register_table(name, df.into_view()).unwrap();
}

fn in_memory_findings(
    files: &[String],
    b: &Baseline,
    (geo, nets, config): (&GeoStack, &InternalNets, &Config),
) -> Vec<String> {
    let batches = read_all(files, &ReadOptions::default()).unwrap().0;
    let flows = Flows::from_batches(&batches).unwrap();
    let ctx = DetectCtx::new(&batches, &flows, b, geo, nets, config);
    let names = config.analysis.detectors.clone();
    run(&ctx, &names).unwrap().iter().map(text).collect()
}

fn in_memory_baseline(
    files: &[String],
    nets: &InternalNets,
    geo: &GeoStack,
    c: &Config,
) -> Baseline {
    let flows = Flows::from_batches(&read_all(files, &ReadOptions::default()).unwrap().0).unwrap();
    learn(&flows, nets, geo, &c.baseline, files.to_vec(), false).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_a_local_session_equal_the_in_memory_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        seed: 7,
        flows_normal: 40_000,
        flows_test: 20_000,
        flows_servers: 8_000,
        clients: 40,
        ..GenConfig::default()
    };
    let summary = flowhound_gen::generate(&cfg, dir.path(), &|_, _| {}).unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (normal, test) = (
        vec![p("normal.parquet")],
        vec![p("test.parquet"), p("servers.parquet")],
    );
    let nets = InternalNets::new(vec![Cidr::parse(&summary.truth.network.subnet).unwrap()]);
    let geo = GeoStack::from_options(&[], &[], true).unwrap();
    let config = Config::from_toml(CONFIG, "test config").unwrap();

    let ctx = SessionContext::new();
    register(&ctx);
    table(&ctx, "normal", &normal).await;
    table(&ctx, "test", &test).await;
    let jobs_dir = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let jobs = Jobs {
        run: |q: Query| {
            let ctx = ctx.clone();
            async move { Ok::<Vec<RecordBatch>, _>(run_query(&ctx, &q).await?) }
        },
        progress: &|task, done, planned| {
            assert!(done <= planned, "{task:?}: {done} of {planned} shards done");
            seen.lock().unwrap().push((task, done, planned));
        },
        dir: jobs_dir.path(),
        base: JobSpec::new(
            Task::Learn,
            3,
            nets_text(&nets),
            GeoFiles {
                embedded: true,
                ..GeoFiles::default()
            },
            config.clone(),
        ),
    };

    // the plan: flows routed to shards, a shuffle hash-partitioned by shard, the task per partition
    let q = job_query(
        "test",
        Path::new("/x/detect.json"),
        "10.0.0.0/8",
        3,
        Some(""),
    );
    let plan = job_frame(&ctx, &q)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let shown = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(false)
        .to_string();
    assert!(
        shown.contains("RepartitionExec: partitioning=Hash([shard@0]")
            && shown.contains(
                "mode=FinalPartitioned, gby=[shard@0 as shard], aggr=[flowhound_shard_task("
            )
            && shown.contains("flowhound_shard_of(src_ip@1, dst_ip@2, 10.0.0.0/8, 3) as shard")
            && shown.contains("FilterExec: flowhound_internal_pair("),
        "{shown}"
    );

    let baseline = jobs.learn("normal", normal.clone(), false).await.unwrap();
    let want = in_memory_baseline(&normal, &nets, &geo, &config);
    assert_eq!(
        baseline.to_json().unwrap(),
        want.to_json().unwrap(),
        "learned by host shards in plans == learned at once"
    );

    // a rolling baseline's days: each day's state equal to learning the day at once
    let days = jobs.learn_days("normal", normal.clone()).await.unwrap();
    let flows =
        Flows::from_batches(&read_all(&normal, &ReadOptions::default()).unwrap().0).unwrap();
    let never = std::sync::atomic::AtomicBool::new(false);
    let want_days = flowhound::baseline::learn_days(
        &flows,
        &nets,
        &geo,
        &config.baseline,
        normal.clone(),
        &never,
    )
    .unwrap();
    assert!(!want_days.is_empty());
    assert_eq!(days.len(), want_days.len());
    for ((d, st), (wd, wst)) in days.iter().zip(&want_days) {
        assert_eq!(d, wd);
        assert_eq!(st.to_bytes().unwrap(), wst.to_bytes().unwrap(), "day {d}");
    }

    let globals = jobs.globals("test", baseline.window_secs).await.unwrap();
    // the statistics from SQL aggregations == computed from every flow at once
    let all = Flows::from_batches(&read_all(&test, &ReadOptions::default()).unwrap().0).unwrap();
    let want_g = flowhound::detect::globals::TestGlobals::of(&all, &nets);
    assert!(!want_g.dest_counts.is_empty());
    let want_cells = flowhound::detect::volume::HostWindows::of(&all, &nets, baseline.window_secs);
    assert_eq!(globals.rows, all.len() as u64);
    let g = &globals.globals;
    assert_eq!(g.ts_range, want_g.ts_range);
    assert_eq!(g.internal_hosts, want_g.internal_hosts);
    assert_eq!(g.dest_counts, want_g.dest_counts);
    assert_eq!(g.shared_dests, want_g.shared_dests);
    assert!(!want_g.shared_dests.is_empty());
    assert_eq!(g.dns_sizes, want_g.dns_sizes);
    assert_eq!(g.dns_answered, want_g.dns_answered);
    assert!(!want_g.dns_sizes.is_empty());
    assert_eq!(globals.cells, want_cells.cells);
    let d = jobs
        .detect("test", &baseline, &globals, None)
        .await
        .unwrap();
    let got: Vec<String> = task::finish(d.raw, (&baseline, &geo, &nets, &config), g)
        .unwrap()
        .iter()
        .map(text)
        .collect();
    let want = in_memory_findings(&test, &want, (&geo, &nets, &config));
    assert!(!want.is_empty(), "the scenarios give findings");
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "{} findings in memory, {} by jobs\nmissing: {missing:#?}\nextra: {extra:#?}",
        want.len(),
        got.len()
    );
    assert!(Path::new(&jobs_dir.path().join("detect.json")).exists());
    // progress is reported for every job; each shard marks itself done (3 host shards and the
    // internal pairs for detection)
    let seen = seen.into_inner().unwrap();
    for task in [Task::Learn, Task::Globals, Task::Detect] {
        assert!(seen.iter().any(|s| s.0 == task), "{task:?}: {seen:?}");
    }
    let done = std::fs::read_dir(jobs_dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("detect.done.")
        })
        .count();
    assert_eq!(done, 4, "each detection shard marked itself done");
}
