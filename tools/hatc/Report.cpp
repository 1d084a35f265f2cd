//===- Report.cpp - hatc report: an HTML summary of a tuning database -----===//
//
// One self-contained HTML file: a table per task (best, default, speedup,
// trials, errors by code) and each task's tuning curve (best so far against
// trials) drawn as inline SVG. No scripts, no external files.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "hatc/Db/Database.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Tasks.h"
#include "hatc/Support/Version.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

namespace hatc {

namespace {

/// One tuning: a task on one kernel thread count (cpu; none recorded is a
/// tuning of its own, as for hwacc and gpu). A task tuned on 1 thread and
/// on 2 is two tunings, each with its own default, best and curve, as
/// `hatc tune` keeps them.
struct TaskSummary {
  std::string workload, targetKind, targetName, fingerprint;
  std::optional<int64_t> threads;
  int64_t trials = 0;
  std::map<std::string, int64_t> errors;
  double best = 0, defaultValue = 0; // GFLOP/s; the default's last record
  std::optional<db::RankKey> bestRank; // of `best`, as Database::best ranks
  std::optional<int64_t> bestCycles, defaultCycles;
  std::string bestConfig, bestVersion;
  double fastest = 0;        // GFLOP/s of any one measurement so far
  std::vector<double> curve; // `fastest`, per trial
};

std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string curveSvg(const std::vector<double> &curve, double baseline) {
  const double width = 560, height = 230, left = 60, bottom = 34, top = 12,
               right = 12;
  double maxY = baseline;
  for (double v : curve)
    maxY = std::max(maxY, v);
  if (maxY <= 0)
    maxY = 1;
  size_t n = std::max<size_t>(curve.size(), 2);
  auto x = [&](size_t i) {
    return left + (width - left - right) * double(i) / double(n - 1);
  };
  auto y = [&](double v) {
    return top + (height - top - bottom) * (1 - v / (maxY * 1.05));
  };
  std::string svg = llvm::formatv("<svg width=\"{0}\" height=\"{1}\" "
                                  "viewBox=\"0 0 {0} {1}\" role=\"img\">",
                                  width, height);
  svg += llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" "
                       "class=\"axis\"/><line x1=\"{0}\" y1=\"{2}\" "
                       "x2=\"{3}\" y2=\"{2}\" class=\"axis\"/>",
                       left, top, height - bottom, width - right);
  for (int tick = 0; tick <= 4; ++tick) {
    double v = maxY * 1.05 * tick / 4;
    svg += llvm::formatv("<text x=\"{0}\" y=\"{1}\" class=\"tick\" "
                         "text-anchor=\"end\">{2:f1}</text>",
                         left - 6, y(v) + 4, v);
  }
  // Trial numbers (1-based) on the x axis: 1, then every `step`, a round
  // number giving at most 6 labels.
  size_t step = 1;
  for (size_t scale = 1; curve.size() / step > 6; scale *= 10)
    for (size_t m : {1, 2, 5})
      if (curve.size() / step > 6)
        step = m * scale;
  for (size_t trial = 1; trial <= curve.size();
       trial = trial == 1 && step > 1 ? step : trial + step)
    svg += llvm::formatv("<line x1=\"{0:f1}\" y1=\"{1}\" x2=\"{0:f1}\" "
                         "y2=\"{2}\" class=\"axis\"/><text x=\"{0:f1}\" "
                         "y=\"{3}\" class=\"tick xtick\" "
                         "text-anchor=\"middle\">{4}</text>",
                         x(trial - 1), height - bottom, height - bottom + 4,
                         height - bottom + 14, trial);
  svg += llvm::formatv("<text x=\"{0}\" y=\"{1}\" class=\"tick\" "
                       "text-anchor=\"middle\">trial ({2} in all)</text>",
                       (left + width) / 2, height - 2, curve.size());
  if (baseline > 0)
    svg += llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                         "class=\"baseline\"/><text x=\"{2}\" y=\"{3}\" "
                         "class=\"tick\" text-anchor=\"end\">default</text>",
                         left, y(baseline), width - right, y(baseline) - 4);
  std::string points;
  for (size_t i = 0; i < curve.size(); ++i)
    points += llvm::formatv("{0:f1},{1:f1} ", x(i), y(curve[i]));
  svg += "<polyline class=\"curve\" points=\"" + points + "\"/></svg>";
  return svg;
}

/// One task of a model as the database knows it on one target.
struct ModelRow {
  std::string key;
  int64_t weight = 0;
  double flops = 0;
  std::optional<double> defaultS, bestS; // latency of one instance
  std::optional<db::RankKey> bestRank;    // of `bestS`, as best ranks
  int64_t stale = 0; // of another compiler version or machine
  bool usesStale = false; // its figures are of those (--allow-stale)
  size_t records = 0;     // of its key on the target, any build or threads
};

/// flops / GFLOP/s of an OK record of this task (its hash), or nullopt.
std::optional<double> latencyOf(const db::Record &r, double flops,
                                const std::string &hash) {
  if (r.error != db::ErrorCode::Ok || r.workloadHash != hash || flops <= 0)
    return std::nullopt;
  double gflops = db::gflopsOf(r);
  if (gflops <= 0)
    return std::nullopt;
  return flops / (gflops * 1e9);
}

/// The model view: each task's weight, default and best latency on the
/// target, from the records `hatc compile --db` takes (on the CPU those of
/// the build's thread count; fresh ones of this compiler and machine, or
/// with allowStale a task's stale ones where it has no fresh default), and
/// its share of the model's time before and after tuning (an untuned task
/// counts at its default both times; a task never measured is not
/// counted).
llvm::Expected<std::vector<ModelRow>>
modelRows(db::Database &database, const CompileRequest &request,
          bool allowStale) {
  auto target = resolveTarget(request.targetConfig.empty()
                                  ? request.targetSpec
                                  : request.targetConfig);
  if (!target)
    return target.takeError();
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  auto model = loadWorkloadOrModel(context, request);
  if (!model)
    return model.takeError();
  auto tasks = extractTasks(*model);
  if (!tasks)
    return tasks.takeError();
  db::TargetKey key{targetKindName(target->kind), target->fingerprint(),
                    target->name};
  std::string version = compilerVersion();
  // As a build takes them: on the CPU, records of its thread count (or of
  // none recorded) only.
  std::optional<int64_t> threads;
  if (target->kind == TargetKind::Cpu)
    threads = resolveThreads(request.threads, *target);
  auto isFresh = [&](const db::Record &r) {
    return r.compilerVersion == version &&
           r.targetFingerprint == key.fingerprint;
  };
  std::vector<ModelRow> rows;
  for (const ModelTask &task : *tasks) {
    ModelRow row;
    row.key = task.key;
    row.weight = task.weight;
    row.flops = task.flops;
    // What a build takes (Database::bestToBuild): the best record, or the
    // best confirmed default's when the best gives way to it; with
    // allowStale, a task without a fresh record of its default takes its
    // other builds' and machines' records instead, as `hatc run/compile
    // --allow-stale` do (never the two mixed).
    std::vector<db::Record> records = database.records(task.key, key);
    row.records = records.size();
    auto scan = [&](bool fresh) {
      const db::Record *best = nullptr, *confirmedDefault = nullptr;
      std::optional<double> confirmedDefaultS;
      row.defaultS.reset();
      row.bestS.reset();
      row.bestRank.reset();
      for (const db::Record &r : records) {
        if (isFresh(r) != fresh || !db::ranOnThreads(r, threads))
          continue;
        std::optional<double> latency = latencyOf(r, task.flops, task.hash);
        if (!latency)
          continue;
        if (r.sketch == "default")
          row.defaultS = latency;
        if (db::isConfirmedDefault(r) &&
            (!confirmedDefaultS || *latency < *confirmedDefaultS)) {
          confirmedDefault = &r;
          confirmedDefaultS = latency;
        }
        db::RankKey rank = db::rankKey(r, *latency);
        if (!row.bestRank || rank < *row.bestRank) {
          row.bestS = latency;
          row.bestRank = rank;
          best = &r;
        }
      }
      if (best && confirmedDefault &&
          db::givesWayToDefault(*best, *confirmedDefault))
        row.bestS = confirmedDefaultS;
      if (!row.defaultS)
        row.bestS.reset(); // no baseline: no share either way
    };
    for (const db::Record &r : records)
      row.stale += r.workloadHash == task.hash &&
                   db::ranOnThreads(r, threads) && !isFresh(r);
    scan(/*fresh=*/true);
    if (!row.defaultS && allowStale && row.stale) {
      scan(/*fresh=*/false);
      row.usesStale = row.defaultS.has_value();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ms(double seconds) {
  return llvm::formatv("{0:f4} ms", seconds * 1e3).str();
}

} // namespace

int reportCommand(const Args &args) {
  std::string dbPath, output = "report.html";
  FlagParser parser("hatc report",
                    "Writes a self-contained HTML report of a tuning "
                    "database: per task the best\nand default schedules, "
                    "speedup, trials, errors by code, and the tuning curve.");
  parser.option("--db", &dbPath, "DB", "the tuning database");
  parser.option("-o", &output, "OUT.html", "output file (report.html)");
  CompileRequest model;
  model.targetSpec = "cpu";
  parser.option("--model", &model.workloadPath, "MODEL.onnx|W.mlir",
                "add a model view: its tasks, weights and shares of "
                "end-to-end time before and after tuning (also on stdout)");
  parser.option("--target", &model.targetSpec, "T",
                "the target of the model view (cpu)");
  addModelFlags(parser, model);
  addThreadsFlag(parser, model.threads);
  bool allowStale = false;
  parser.flag("--allow-stale", &allowStale,
              "model view: a task without a record of this hatc and machine "
              "counts its records of another (as hatc run --db does)");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (dbPath.empty())
    return reportError(makeError("hatc report: missing --db DB"));
  if (llvm::Error err = refuseOutputOverInputs(
          "-o", output,
          {{"the database", dbPath}, {"the model", model.workloadPath}}))
    return reportError(std::move(err));
  db::OpenOptions openOptions;
  openOptions.readOnly = true;
  std::unique_ptr<db::Database> database;
  try {
    database = db::Database::open(dbPath, openOptions);
  } catch (const std::exception &e) {
    return reportError(makeError(e.what()));
  }
  std::vector<ModelRow> rows;
  double before = 0, after = 0;
  if (!model.workloadPath.empty()) {
    auto found = modelRows(*database, model, allowStale);
    if (!found)
      return reportError(found.takeError());
    rows = std::move(*found);
    for (const ModelRow &row : rows) {
      if (!row.defaultS)
        continue;
      before += double(row.weight) * *row.defaultS;
      after += double(row.weight) * *row.bestS;
    }
  }

  // Tunings; tasks are counted as `hatc db stats` counts them.
  std::map<std::pair<std::string, std::optional<int64_t>>, TaskSummary>
      tunings;
  std::vector<std::pair<std::string, std::optional<int64_t>>> order;
  database->forEachRecord([&](const db::Record &r) {
    std::pair<std::string, std::optional<int64_t>> key{db::taskKeyOf(r),
                                                       r.threads};
    auto [it, inserted] = tunings.try_emplace(key);
    TaskSummary &t = it->second;
    if (inserted) {
      order.push_back(key);
      t.workload = r.workloadKey;
      t.targetKind = r.targetKind;
      t.targetName = r.targetName;
      t.fingerprint = r.targetFingerprint;
      t.threads = r.threads;
    }
    ++t.trials;
    ++t.errors[db::errorCodeName(r.error)];
    double gflops = r.error == db::ErrorCode::Ok ? db::gflopsOf(r) : 0.0;
    if (r.sketch == "default")
      t.defaultValue = gflops, t.defaultCycles = r.cycles;
    db::RankKey rank = db::rankKey(r, -gflops);
    if (gflops > 0 && (!t.bestRank || rank < *t.bestRank)) {
      t.best = gflops;
      t.bestRank = rank;
      t.bestCycles = r.cycles;
      t.bestConfig = r.configJson;
      t.bestVersion = r.compilerVersion;
    }
    t.fastest = std::max(t.fastest, gflops);
    t.curve.push_back(t.fastest);
  });
  // A task's tunings side by side, by thread count; `firstSeen` has a
  // task's first tuning's rank, and one entry per task.
  std::map<std::string, size_t> firstSeen;
  for (const auto &key : order)
    firstSeen.try_emplace(key.first, firstSeen.size());
  std::stable_sort(order.begin(), order.end(),
                   [&](const auto &a, const auto &b) {
                     return std::make_pair(firstSeen[a.first], a.second) <
                            std::make_pair(firstSeen[b.first], b.second);
                   });

  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>hatc tuning "
      "report</title><style>"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
      "th{background:#f3f3f3}code{font-size:90%;word-break:break-all}h2,td{word-break:break-all}"
      ".axis{stroke:#555}.baseline{stroke:#c44;stroke-dasharray:4 3}"
      ".curve{fill:none;stroke:#26a;stroke-width:2}.tick{font-size:11px;"
      "fill:#555}section{margin-bottom:2.5em}"
      "</style></head><body><h1>hatc tuning report</h1>";
  html += "<p>Database <code>" + escape(database->path()) + "</code>: " +
          std::to_string(firstSeen.size()) + " tasks, " +
          std::to_string(order.size()) +
          " tunings (a task on each thread count it was tuned on).</p>";
  if (!model.workloadPath.empty()) {
    // Text on stdout, the same table in the HTML.
    std::string title = "Model " + model.workloadPath + " on " +
                        model.targetSpec + ": " + std::to_string(rows.size()) +
                        " tasks";
    llvm::outs() << title << "\n";
    llvm::outs() << llvm::formatv("  {0,-6} {1,-12} {2,-12} {3,-8} {4,-8} {5}\n",
                                  "weight", "default", "best", "before",
                                  "after", "task");
    html += "<h2>" + escape(title) + "</h2><table><tr><th>task</th><th>"
            "weight</th><th>default</th><th>best</th><th>share before</th>"
            "<th>share after</th></tr>";
    auto share = [](double part, double whole) {
      return whole > 0 ? llvm::formatv("{0:f1}%", 100 * part / whole).str()
                       : std::string("-");
    };
    for (const ModelRow &row : rows) {
      std::string shareBefore = "-", shareAfter = "-", def = "-", best = "-";
      if (row.defaultS) {
        shareBefore = share(double(row.weight) * *row.defaultS, before);
        shareAfter = share(double(row.weight) * *row.bestS, after);
        def = ms(*row.defaultS);
        best = ms(*row.bestS);
      }
      llvm::outs() << llvm::formatv("  {0,-6} {1,-12} {2,-12} {3,-8} {4,-8} {5}\n",
                                    row.weight, def, best, shareBefore,
                                    shareAfter, row.key);
      html += "<tr><td>" + escape(row.key) + "</td><td>" +
              std::to_string(row.weight) + "</td><td>" + def + "</td><td>" +
              best + "</td><td>" + shareBefore + "</td><td>" + shareAfter +
              "</td></tr>";
    }
    int64_t stale = 0, staleTasks = 0;
    size_t records = 0;
    for (const ModelRow &row : rows) {
      stale += row.stale;
      staleTasks += row.usesStale;
      records += row.records;
    }
    std::string total =
        before > 0
            ? llvm::formatv("end-to-end (measured tasks): {0} with default "
                            "schedules, {1} tuned ({2:f2}x)",
                            ms(before), ms(after), before / after)
                  .str()
        : records == 0
            // Another model's database, or another target's: say so, not
            // only that nothing was measured.
            ? llvm::formatv("end-to-end: {0} holds no record of this "
                            "model's {1} tasks on this target (hatc tune "
                            "{2} --db {0} measures them)",
                            db::Database::displayName(dbPath), rows.size(),
                            model.workloadPath)
                  .str()
            : std::string("end-to-end: no task has a measured default "
                          "schedule on this hatc build and machine");
    if (staleTasks)
      total += llvm::formatv("; {0} task(s) counted from records of another "
                             "hatc build or machine (--allow-stale)",
                             staleTasks)
                   .str();
    else if (stale)
      total += llvm::formatv("; {0} records of another hatc build or "
                             "machine are not counted (stale; --allow-stale "
                             "counts them)",
                             stale)
                   .str();
    llvm::outs() << "  " << total << "\n";
    html += "</table><p>" + escape(total) + "; each task's latency is one "
            "instance's, its share counts all its instances.</p>";
  }
  html += "<table><tr><th>task</th><th>target</th><th>threads</th><th>best"
          "</th><th>default</th><th>speedup</th><th>trials</th><th>errors"
          "</th></tr>";
  auto metric = [](double gflops, const std::optional<int64_t> &cycles) {
    if (cycles)
      return llvm::formatv("{0} cycles", *cycles).str();
    return llvm::formatv("{0:f1} GFLOP/s", gflops).str();
  };
  // Anchors by position: task keys hold characters an id cannot.
  auto anchor = [](size_t i) { return "task-" + std::to_string(i + 1); };
  auto threadsText = [](const TaskSummary &t) {
    return t.threads ? std::to_string(*t.threads) : std::string("-");
  };
  for (size_t i = 0; i < order.size(); ++i) {
    const TaskSummary &t = tunings[order[i]];
    std::string errors;
    for (const auto &[code, count] : t.errors)
      if (code != "OK")
        errors += (errors.empty() ? "" : ", ") + code + " " +
                  std::to_string(count);
    std::string speedup = t.defaultValue > 0 && t.best > 0
                              ? llvm::formatv("{0:f2}x",
                                              t.best / t.defaultValue)
                                    .str()
                              : "-";
    html += "<tr><td><a href=\"#" + anchor(i) + "\">" + escape(t.workload) +
            "</a></td><td>" + escape(t.targetKind + " " + t.targetName) +
            "</td><td>" + threadsText(t) + "</td><td>" +
            (t.best > 0 ? metric(t.best, t.bestCycles) : std::string("-")) +
            "</td><td>" +
            (t.defaultValue > 0 ? metric(t.defaultValue, t.defaultCycles)
                                : std::string("-")) +
            "</td><td>" + speedup + "</td><td>" + std::to_string(t.trials) +
            "</td><td>" + (errors.empty() ? "none" : escape(errors)) +
            "</td></tr>";
  }
  html += "</table>";
  for (size_t i = 0; i < order.size(); ++i) {
    const TaskSummary &t = tunings[order[i]];
    html += "<section id=\"" + anchor(i) + "\"><h2>" + escape(t.workload) +
            " on " + escape(t.targetKind + " " + t.targetName) +
            (t.threads ? llvm::formatv(", {0} thread(s)", *t.threads).str()
                       : std::string()) +
            "</h2>";
    html += "<p>Best so far (GFLOP/s" +
            std::string(t.targetKind == "hwacc" ? ", modeled" : "") +
            ") against trials; the dashed line is the default schedule.</p>";
    html += curveSvg(t.curve, t.defaultValue);
    html += "<p>Best config: <code>" + escape(t.bestConfig) +
            "</code><br>Compiler: <code>" + escape(t.bestVersion) +
            "</code><br>Target fingerprint: <code>" + escape(t.fingerprint) +
            "</code></p></section>";
  }
  html += "</body></html>\n";

  if (llvm::Error err = writeOutputFile(
          output, [&](llvm::raw_ostream &os) { os << html; }))
    return reportError(std::move(err));
  llvm::errs() << "hatc report: " << firstSeen.size() << " tasks, "
               << order.size() << " tunings -> " << output << "\n";
  return kExitOk;
}

} // namespace hatc
