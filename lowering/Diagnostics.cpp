//===- Diagnostics.cpp - Capture MLIR diagnostics as one-line errors ------===//
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace hatc {

std::string formatLocation(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().str() + ":" + std::to_string(file.getLine()) +
            ":" + std::to_string(file.getColumn()));
  if (auto name = dyn_cast<NameLoc>(loc))
    return formatLocation(name.getChildLoc());
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return formatLocation(callSite.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location inner : fused.getLocations()) {
      std::string text = formatLocation(inner);
      if (!text.empty())
        return text;
    }
  }
  return "";
}

DiagnosticCapture::DiagnosticCapture(MLIRContext *context) : context(context) {
  handlerId = context->getDiagEngine().registerHandler([this](Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return success(); // notes and warnings are not part of the one line
    std::string text;
    llvm::raw_string_ostream os(text);
    std::string where = formatLocation(diag.getLocation());
    if (!where.empty())
      os << where << ": ";
    os << diag.str();
    // Attached notes often name the op the error is about; keep the first.
    for (Diagnostic &note : diag.getNotes()) {
      std::string noteText = note.str();
      if (noteText.find('\n') == std::string::npos && !noteText.empty() &&
          !llvm::StringRef(noteText).starts_with("see current operation")) {
        os << " (" << noteText << ")";
        break;
      }
    }
    // One line: fold whatever newlines an op printer put in.
    for (char &c : text)
      if (c == '\n')
        c = ' ';
    errors.push_back(std::move(text));
    return success();
  });
}

DiagnosticCapture::~DiagnosticCapture() {
  context->getDiagEngine().eraseHandler(handlerId);
}

llvm::Error DiagnosticCapture::takeError(llvm::StringRef what) {
  if (errors.empty())
    return makeError(what + " (no diagnostic was emitted)");
  std::string first = errors.front();
  errors.clear();
  if (what.empty())
    return makeError(first);
  return makeError(what + ": " + first);
}

} // namespace hatc
