#include "host_buffer.h"

#include <stdexcept>

namespace pafcast {

void checkCuda(cudaError_t status, char const* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

std::shared_ptr<HostBuffer> HostBuffer::allocate(std::size_t bytes, bool integratedGpu) {
  std::shared_ptr<HostBuffer> buf(new HostBuffer());
  buf->bytes_ = bytes;
  if (integratedGpu) {
    checkCuda(cudaHostAlloc(&buf->host_, bytes, cudaHostAllocMapped), "cudaHostAlloc(mapped)");
    checkCuda(cudaHostGetDevicePointer(&buf->device_, buf->host_, 0), "cudaHostGetDevicePointer");
  } else {
    checkCuda(cudaHostAlloc(&buf->host_, bytes, cudaHostAllocDefault), "cudaHostAlloc");
    checkCuda(cudaMalloc(&buf->device_, bytes), "cudaMalloc");
    buf->ownsDevice_ = true;
  }
  return buf;
}

HostBuffer::~HostBuffer() {
  // Errors cannot be reported from a destructor (it may run from a GC finaliser); freeing is best effort.
  if (ownsDevice_ && device_ != nullptr) cudaFree(device_);
  if (host_ != nullptr) cudaFreeHost(host_);
}

}  // namespace pafcast
