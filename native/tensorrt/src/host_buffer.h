// Page-locked host memory shared by JS (as an ArrayBuffer) and the GPU.
// On integrated GPUs (every Jetson) CPU and GPU share DRAM, so the buffer is allocated mapped and the
// engine reads/writes it through its device alias: no copy per frame. On a discrete GPU a device
// mirror is allocated once and copied around each run instead.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <string>

namespace pafcast {

class HostBuffer {
 public:
  /** Allocates `bytes` of pinned memory; throws std::runtime_error with the CUDA error text on failure. */
  static std::shared_ptr<HostBuffer> allocate(std::size_t bytes, bool integratedGpu);
  ~HostBuffer();
  HostBuffer(HostBuffer const&) = delete;
  HostBuffer& operator=(HostBuffer const&) = delete;

  void* host() const { return host_; }
  /** Address the engine binds: the mapped alias on integrated GPUs, the device mirror otherwise. */
  void* device() const { return device_; }
  std::size_t bytes() const { return bytes_; }
  /** True when host and device are different memory and each run must copy. */
  bool needsCopy() const { return ownsDevice_; }

 private:
  HostBuffer() = default;
  void* host_ = nullptr;
  void* device_ = nullptr;
  std::size_t bytes_ = 0;
  bool ownsDevice_ = false;
};

/** Throws std::runtime_error("<what>: <cuda error string>") when `status` is not cudaSuccess. */
void checkCuda(cudaError_t status, char const* what);

}  // namespace pafcast
