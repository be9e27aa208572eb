#include "engine_session.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace pafcast {
namespace {

std::vector<int64_t> toVector(nvinfer1::Dims const& d) {
  std::vector<int64_t> out;
  for (int32_t i = 0; i < d.nbDims; ++i) out.push_back(static_cast<int64_t>(d.d[i]));
  return out;
}

nvinfer1::Dims toDims(std::vector<int64_t> const& v) {
  if (v.size() > static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS)) throw std::runtime_error("too many dimensions");
  nvinfer1::Dims d{};
  d.nbDims = static_cast<int32_t>(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) d.d[i] = static_cast<decltype(d.d[0] + 0)>(v[i]);
  return d;
}

std::string describe(std::vector<int64_t> const& v) {
  std::ostringstream s;
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? "x" : "") << v[i];
  return s.str();
}

std::vector<char> readFile(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open engine file " + path);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

EngineSession::EngineSession(std::string const& enginePath, TrtLogger& logger) : logger_(logger) {
  std::vector<char> blob = readFile(enginePath);
  runtime_.reset(nvinfer1::createInferRuntime(logger_));
  if (!runtime_) throw std::runtime_error("createInferRuntime failed: " + logger_.takeLastError());
  engine_.reset(runtime_->deserializeCudaEngine(blob.data(), blob.size()));
  if (!engine_)
    throw std::runtime_error("cannot deserialise " + enginePath +
                             " (built by another TensorRT version or for another GPU?): " + logger_.takeLastError());
  context_.reset(engine_->createExecutionContext());
  if (!context_) throw std::runtime_error("createExecutionContext failed: " + logger_.takeLastError());
  checkCuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");

#if PAFCAST_TRT_NAMED_TENSORS
  for (int32_t i = 0; i < engine_->getNbIOTensors(); ++i) {
    TensorInfo t;
    t.name = engine_->getIOTensorName(i);
    t.isInput = engine_->getTensorIOMode(t.name.c_str()) == nvinfer1::TensorIOMode::kINPUT;
    t.engineDims = toVector(engine_->getTensorShape(t.name.c_str()));
    if (engine_->getTensorDataType(t.name.c_str()) != nvinfer1::DataType::kFLOAT)
      throw std::runtime_error("tensor " + t.name + " is not float32; build the engine without --inputIOFormats/--outputIOFormats");
    if (t.isInput) {
      using S = nvinfer1::OptProfileSelector;
      t.profileMin = toVector(engine_->getProfileShape(t.name.c_str(), 0, S::kMIN));
      t.profileOpt = toVector(engine_->getProfileShape(t.name.c_str(), 0, S::kOPT));
      t.profileMax = toVector(engine_->getProfileShape(t.name.c_str(), 0, S::kMAX));
    }
    tensors_.push_back(t);
  }
#else
  // With several profiles each profile has its own copy of the bindings; profile 0 owns the first block.
  int32_t const perProfile = engine_->getNbBindings() / engine_->getNbOptimizationProfiles();
  bindingAddresses_.assign(static_cast<std::size_t>(engine_->getNbBindings()), nullptr);
  for (int32_t i = 0; i < perProfile; ++i) {
    TensorInfo t;
    t.name = engine_->getBindingName(i);
    t.isInput = engine_->bindingIsInput(i);
    t.bindingIndex = i;
    t.engineDims = toVector(engine_->getBindingDimensions(i));
    if (engine_->getBindingDataType(i) != nvinfer1::DataType::kFLOAT)
      throw std::runtime_error("tensor " + t.name + " is not float32; build the engine without --inputIOFormats/--outputIOFormats");
    if (t.isInput) {
      using S = nvinfer1::OptProfileSelector;
      t.profileMin = toVector(engine_->getProfileDimensions(i, 0, S::kMIN));
      t.profileOpt = toVector(engine_->getProfileDimensions(i, 0, S::kOPT));
      t.profileMax = toVector(engine_->getProfileDimensions(i, 0, S::kMAX));
    }
    tensors_.push_back(t);
  }
#endif
  bound_.resize(tensors_.size());
  currentBytes_.assign(tensors_.size(), 0);
}

EngineSession::~EngineSession() {
  // Reverse order of creation: the context needs the engine, the engine needs the runtime.
  context_.reset();
  engine_.reset();
  runtime_.reset();
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

std::size_t EngineSession::indexOf(std::string const& name) const {
  for (std::size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return i;
  throw std::runtime_error("the engine has no tensor named " + name);
}

void EngineSession::setInputShape(std::string const& name, std::vector<int64_t> const& dims) {
  TensorInfo const& t = tensors_[indexOf(name)];
  if (!t.isInput) throw std::runtime_error(name + " is an output; only inputs take a shape");
  bool inside = dims.size() == t.profileMin.size();
  for (std::size_t i = 0; inside && i < dims.size(); ++i)
    inside = dims[i] >= t.profileMin[i] && dims[i] <= t.profileMax[i];
  if (!inside)
    throw std::runtime_error("shape " + describe(dims) + " of " + name + " is outside the engine's profile " +
                             describe(t.profileMin) + " .. " + describe(t.profileMax) +
                             "; rebuild the engine with `pafcast engines build` for this ladder");
#if PAFCAST_TRT_NAMED_TENSORS
  bool const ok = context_->setInputShape(name.c_str(), toDims(dims));
#else
  bool const ok = context_->setBindingDimensions(t.bindingIndex, toDims(dims));
#endif
  if (!ok) throw std::runtime_error("TensorRT rejected shape " + describe(dims) + ": " + logger_.takeLastError());
  refreshByteCounts();
}

std::vector<int64_t> EngineSession::currentShape(std::string const& name) const {
  TensorInfo const& t = tensors_[indexOf(name)];
#if PAFCAST_TRT_NAMED_TENSORS
  return toVector(context_->getTensorShape(t.name.c_str()));
#else
  return toVector(context_->getBindingDimensions(t.bindingIndex));
#endif
}

void EngineSession::refreshByteCounts() {
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    std::size_t volume = 1;
    for (int64_t d : currentShape(tensors_[i].name)) volume *= d > 0 ? static_cast<std::size_t>(d) : 0;
    currentBytes_[i] = volume * sizeof(float);
  }
}

void EngineSession::bind(std::string const& name, std::shared_ptr<HostBuffer> buffer) {
  std::size_t const i = indexOf(name);
#if PAFCAST_TRT_NAMED_TENSORS
  if (!context_->setTensorAddress(name.c_str(), buffer->device()))
    throw std::runtime_error("setTensorAddress(" + name + ") failed: " + logger_.takeLastError());
#else
  bindingAddresses_[static_cast<std::size_t>(tensors_[i].bindingIndex)] = buffer->device();
#endif
  bound_[i] = std::move(buffer);
}

void EngineSession::runAndWait() {
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    if (!bound_[i]) throw std::runtime_error("tensor " + tensors_[i].name + " has no buffer bound");
    if (bound_[i]->bytes() < currentBytes_[i])
      throw std::runtime_error("buffer bound to " + tensors_[i].name + " is smaller than the current shape needs");
    if (currentBytes_[i] == 0) throw std::runtime_error("input shape not set before run");
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].isInput && bound_[i]->needsCopy())
      checkCuda(cudaMemcpyAsync(bound_[i]->device(), bound_[i]->host(), currentBytes_[i], cudaMemcpyHostToDevice, stream_),
                "cudaMemcpyAsync(input)");
#if PAFCAST_TRT_NAMED_TENSORS
  bool const ok = context_->enqueueV3(stream_);
#else
  bool const ok = context_->enqueueV2(bindingAddresses_.data(), stream_, nullptr);
#endif
  if (!ok) throw std::runtime_error("TensorRT enqueue failed: " + logger_.takeLastError());
  for (std::size_t i = 0; i < tensors_.size(); ++i)
    if (!tensors_[i].isInput && bound_[i]->needsCopy())
      checkCuda(cudaMemcpyAsync(bound_[i]->host(), bound_[i]->device(), currentBytes_[i], cudaMemcpyDeviceToHost, stream_),
                "cudaMemcpyAsync(output)");
  checkCuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

}  // namespace pafcast
