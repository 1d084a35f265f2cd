//===- Schedules.cpp - Which schedule each task of a deployed model gets --===//
#include "hatc/Deploy/Deploy.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Schedule.h"

#include "llvm/Support/raw_ostream.h"

namespace hatc::deploy {

const char *scheduleSourceName(ScheduleSource source) {
  switch (source) {
  case ScheduleSource::Database:
    return "db";
  case ScheduleSource::Default:
    return "default";
  case ScheduleSource::Given:
    return "given";
  }
  return "?";
}

ScheduleProvider defaultScheduleProvider(std::string note) {
  return [note](const Workload &workload,
                const Target &target) -> llvm::Expected<ModelSchedule> {
    auto text = defaultScheduleFor(workload, target.kind);
    if (!text)
      return text.takeError();
    auto script = parseSchedule(*workload.module.get().getContext(), *text,
                                "<default schedule>");
    if (!script)
      return script.takeError();
    ModelSchedule schedule;
    schedule.script = std::move(*script);
    schedule.sources.assign(workload.tasks.size(), ScheduleSource::Default);
    schedule.note = note;
    return std::move(schedule);
  };
}

std::string describeSchedule(const Workload &workload,
                             const ModelSchedule &schedule) {
  std::string text;
  llvm::raw_string_ostream os(text);
  size_t fromDb = 0;
  for (ScheduleSource source : schedule.sources)
    fromDb += source == ScheduleSource::Database;
  os << "schedules: " << workload.tasks.size() << " task"
     << (workload.tasks.size() == 1 ? "" : "s") << ", " << fromDb
     << " from the database\n";
  if (!schedule.note.empty())
    os << "  note: " << schedule.note << "\n";
  for (auto [i, task] : llvm::enumerate(workload.tasks)) {
    ScheduleSource source = i < schedule.sources.size()
                                ? schedule.sources[i]
                                : ScheduleSource::Default;
    os << "  task " << i << "  " << task.key << "  "
       << scheduleSourceName(source) << "\n";
  }
  return text;
}

} // namespace hatc::deploy
