// Routes TensorRT's log into something JS can report: the last error is kept so a failed
// deserialisation can say why (wrong TensorRT version, wrong GPU) instead of "returned null".
#pragma once

#include <NvInferRuntime.h>

#include <mutex>
#include <string>

namespace pafcast {

class TrtLogger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override {
    if (severity > Severity::kWARNING || msg == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (severity <= Severity::kERROR) lastError_ = msg;
  }

  std::string takeLastError() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out.swap(lastError_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::string lastError_;
};

}  // namespace pafcast
