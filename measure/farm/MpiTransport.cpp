//===- MpiTransport.cpp - FarmTransport over MPI point-to-point ------------===//
//
// The only file of hatc that includes mpi.h: nonblocking sends whose
// buffers live until MPI is done with them, MPI_Iprobe + MPI_Recv for what
// has arrived, MPI_ERRORS_RETURN so a failed peer is an error code rather
// than an abort of the job, and an MPI_Finalize that cannot hang forever.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Farm.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <list>
#include <thread>
#include <unistd.h>

namespace hatc::farm {

namespace {

using Clock = std::chrono::steady_clock;

/// MPI_Finalize waits for every rank; one stuck for good (a hung device
/// driver) must not keep this rank alive forever.
constexpr int kFinalizeTimeoutS = 30;

std::string mpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, size_t(length));
}

class MpiTransport : public FarmTransport {
public:
  MpiTransport() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }

  ~MpiTransport() override {
    flush(5);
    for (Pending &pending : pending)
      MPI_Request_free(&pending.request);
    std::atomic<bool> finished{false};
    std::thread watchdog([&finished] {
      for (int i = 0; i < kFinalizeTimeoutS * 10 && !finished; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (finished)
        return;
      const char message[] = "hatc: MPI_Finalize did not return within 30 s "
                             "(a rank is stuck); exiting\n";
      ssize_t ignored = ::write(2, message, sizeof(message) - 1);
      (void)ignored;
      ::_exit(1);
    });
    MPI_Finalize();
    finished = true;
    watchdog.join();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  bool send(int to, Tag tag, std::string bytes) override {
    pending.push_back({MPI_REQUEST_NULL, std::move(bytes)});
    Pending &message = pending.back();
    int rc = MPI_Isend(message.bytes.data(), int(message.bytes.size()),
                       MPI_BYTE, to, int(tag), MPI_COMM_WORLD,
                       &message.request);
    if (rc != MPI_SUCCESS) {
      pending.pop_back();
      return false;
    }
    return true;
  }

  std::optional<Envelope> poll() override {
    progressSends();
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag,
                   &status) != MPI_SUCCESS ||
        !flag)
      return std::nullopt;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Envelope envelope;
    envelope.from = status.MPI_SOURCE;
    envelope.tag = Tag(status.MPI_TAG);
    envelope.bytes.resize(size_t(std::max(0, count)));
    int rc = MPI_Recv(envelope.bytes.data(), count, MPI_BYTE,
                      status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                      MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      lastError = mpiErrorText(rc);
      return std::nullopt;
    }
    return envelope;
  }

  bool flush(double timeoutS) override {
    Clock::time_point deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(timeoutS));
    while (!pending.empty()) {
      progressSends();
      if (pending.empty())
        break;
      if (Clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return true;
  }

  std::string hostName() const override {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    if (MPI_Get_processor_name(name, &length) != MPI_SUCCESS)
      return "unknown host";
    return std::string(name, size_t(length));
  }

private:
  struct Pending {
    MPI_Request request;
    std::string bytes;
  };

  /// Completed sends release their buffers; a failed one is dropped (the
  /// peer is gone: its deadline on rank 0 says so).
  void progressSends() {
    for (auto it = pending.begin(); it != pending.end();) {
      int done = 0;
      int rc = MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS || done)
        it = pending.erase(it);
      else
        ++it;
    }
  }

  int rank_ = 0, size_ = 1;
  std::list<Pending> pending; // stable addresses: MPI holds the buffers
  std::string lastError;
};

} // namespace

llvm::Expected<std::unique_ptr<FarmTransport>> startMpiTransport() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "hatc: MPI is already initialized");
  int rc = MPI_Init(nullptr, nullptr);
  if (rc != MPI_SUCCESS)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "hatc: MPI_Init failed: " +
                                       mpiErrorText(rc));
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_unique<MpiTransport>();
}

} // namespace hatc::farm
