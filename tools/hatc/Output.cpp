//===- Output.cpp - Output files written whole or not at all --------------===//
#include "Output.h"

#include "hatc/Support/Error.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace hatc {

namespace {

llvm::Error cannotWrite(llvm::StringRef path, std::error_code ec) {
  return makeError("cannot write " + path + ": " + ec.message());
}

/// Takes the stream's error, if any, and clears it: a raw_fd_ostream
/// destroyed with an error pending is a fatal error.
std::error_code takeStreamError(llvm::raw_fd_ostream &os) {
  std::error_code ec = os.error();
  os.clear_error();
  return ec;
}

llvm::Error writeStdout(llvm::function_ref<void(llvm::raw_ostream &)> write) {
  llvm::raw_fd_ostream &os = llvm::outs();
  write(os);
  os.flush();
  if (std::error_code ec = takeStreamError(os))
    return cannotWrite("<stdout>", ec);
  return llvm::Error::success();
}

/// A device, FIFO or terminal: it cannot be renamed over, so it is written
/// in place, every write and the close checked.
llvm::Error writeInPlace(llvm::StringRef path,
                         llvm::function_ref<void(llvm::raw_ostream &)> write,
                         bool binary) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec,
                          binary ? llvm::sys::fs::OF_None
                                 : llvm::sys::fs::OF_Text);
  if (ec)
    return cannotWrite(path, ec);
  write(os);
  os.close();
  if (std::error_code ec = takeStreamError(os))
    return cannotWrite(path, ec);
  return llvm::Error::success();
}

} // namespace

llvm::Error writeOutputFile(llvm::StringRef path,
                            llvm::function_ref<void(llvm::raw_ostream &)> write,
                            bool binary) {
  if (path == "-")
    return writeStdout(write);
  if (path.empty()) // `-o ''`: "cannot write : No such file or directory"
    return makeError("cannot write the output: its path is empty (give a "
                     "file, or - for stdout)");

  // Through a symlink, replace the file it points at, not the link.
  llvm::SmallString<256> target(path);
  llvm::sys::fs::file_status status;
  bool replacing = !llvm::sys::fs::status(path, status);
  if (replacing) {
    if (!llvm::sys::fs::is_regular_file(status))
      return writeInPlace(path, write, binary);
    llvm::SmallString<256> real;
    if (!llvm::sys::fs::real_path(path, real))
      target = real;
  }

  llvm::SmallString<256> model(target);
  model += ".tmp-%%%%%%";
  llvm::SmallString<256> tempPath;
  int fd = -1;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, fd, tempPath))
    return cannotWrite(path, ec);
  llvm::sys::RemoveFileOnSignal(tempPath);
  auto fail = [&](std::error_code ec) {
    llvm::sys::fs::remove(tempPath);
    llvm::sys::DontRemoveFileOnSignal(tempPath);
    return cannotWrite(path, ec);
  };

  // The replacement keeps the permissions of the file it replaces.
  std::error_code ec =
      replacing ? llvm::sys::fs::setPermissions(fd, status.permissions())
                : std::error_code();
  if (!ec) {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/false);
    write(os);
    os.flush();
    ec = takeStreamError(os);
  }
  // A file system may report a full disk only when the data reaches it.
  if (!ec && ::fsync(fd) != 0)
    ec = std::error_code(errno, std::generic_category());
  if (::close(fd) != 0 && !ec)
    ec = std::error_code(errno, std::generic_category());
  if (ec)
    return fail(ec);
  if (std::error_code renameEc = llvm::sys::fs::rename(tempPath, target))
    return fail(renameEc);
  llvm::sys::DontRemoveFileOnSignal(tempPath);
  return llvm::Error::success();
}

llvm::Error refuseOutputOverInputs(llvm::StringRef outputFlag,
                                   llvm::StringRef output,
                                   std::initializer_list<InputFile> inputs) {
  if (output.empty() || output == "-")
    return llvm::Error::success();
  for (const InputFile &input : inputs) {
    bool same = false;
    if (input.path.empty() || input.path == "-" ||
        llvm::sys::fs::equivalent(output, input.path, same) || !same)
      continue;
    return makeError(llvm::formatv("{0} {1} is {2} {3}: writing it would "
                                   "destroy it; name another file",
                                   outputFlag, output, input.role, input.path)
                         .str());
  }
  return llvm::Error::success();
}

} // namespace hatc
