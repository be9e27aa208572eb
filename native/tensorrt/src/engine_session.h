// One deserialised TensorRT engine with one execution context and one CUDA stream.
// Everything is allocated in the constructor or when a buffer is bound; a run allocates nothing.
// The API generation (binding indices vs named tensors) is hidden here, chosen by trt_version.h.
#pragma once

#include "host_buffer.h"
#include "trt_logger.h"
#include "trt_version.h"

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pafcast {

struct TensorInfo {
  std::string name;
  bool isInput = false;
  /** Shape as stored in the engine; -1 marks a dimension set at run time. */
  std::vector<int64_t> engineDims;
  /** Optimisation profile 0 bounds (inputs only). */
  std::vector<int64_t> profileMin, profileOpt, profileMax;
  /** Binding index (TensorRT < 8.5 only). */
  int32_t bindingIndex = -1;
};

class EngineSession {
 public:
  /** Reads and deserialises `enginePath`; throws std::runtime_error saying why it failed. */
  EngineSession(std::string const& enginePath, TrtLogger& logger);
  ~EngineSession();
  EngineSession(EngineSession const&) = delete;
  EngineSession& operator=(EngineSession const&) = delete;

  std::vector<TensorInfo> const& tensors() const { return tensors_; }

  /** Selects an input shape; it must lie inside profile 0 (checked here, with a readable error). */
  void setInputShape(std::string const& name, std::vector<int64_t> const& dims);
  /** Current shape of any tensor (outputs follow from the input shapes). */
  std::vector<int64_t> currentShape(std::string const& name) const;
  /** Binds caller-owned memory to a tensor; it stays bound until rebound. */
  void bind(std::string const& name, std::shared_ptr<HostBuffer> buffer);
  /** Runs the engine on its stream and waits; safe to call from a worker thread. */
  void runAndWait();

 private:
  std::size_t indexOf(std::string const& name) const;
  void refreshByteCounts();

  TrtLogger& logger_;
  std::unique_ptr<nvinfer1::IRuntime> runtime_;
  std::unique_ptr<nvinfer1::ICudaEngine> engine_;
  std::unique_ptr<nvinfer1::IExecutionContext> context_;
  cudaStream_t stream_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::vector<std::shared_ptr<HostBuffer>> bound_;
  /** Bytes each tensor occupies at the current shapes (float32). */
  std::vector<std::size_t> currentBytes_;
#if !PAFCAST_TRT_NAMED_TENSORS
  std::vector<void*> bindingAddresses_;
#endif
};

}  // namespace pafcast
