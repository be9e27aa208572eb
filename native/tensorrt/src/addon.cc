// N-API surface of the addon (see ../README.md for the JS contract):
//   info()                       -> { compiledWith, runtime, api, gpu: { name, computeCapability, integrated } }
//   new Engine(path)             -> deserialises an engine, creates its context and stream
//   engine.tensors()             -> [{ name, input, dims, profile?: { min, opt, max } }]
//   engine.allocate(bytes)       -> ArrayBuffer in pinned (mapped on integrated GPUs) memory
//   engine.bind(name, buffer)    -> binds an ArrayBuffer from allocate() to a tensor, once
//   engine.setInputShape(name, dims) -> { tensorName: dims } of every tensor at the new shape
//   engine.run()                 -> Promise<void>; runs on a worker thread, allocates nothing
//   engine.dispose()
#include "engine_session.h"
#include "host_buffer.h"
#include "trt_logger.h"

#include <napi.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

namespace pafcast {
namespace {

TrtLogger& sharedLogger() {
  static TrtLogger logger;
  return logger;
}

struct GpuInfo {
  std::string name;
  int major = 0, minor = 0;
  bool integrated = false;
};

GpuInfo currentGpu() {
  int device = 0;
  checkCuda(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  checkCuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  GpuInfo g;
  g.name = prop.name;
  g.major = prop.major;
  g.minor = prop.minor;
  g.integrated = prop.integrated != 0 && prop.canMapHostMemory != 0;
  return g;
}

// getInferLibVersion() packs 8.x as M*1000+m*100+p (8502) and 10.x as M*10000+m*100+p (100300).
std::string decodeLibVersion(int32_t v) {
  int32_t const major = v >= 10000 ? v / 10000 : v / 1000;
  int32_t const minor = v >= 10000 ? (v / 100) % 100 : (v / 100) % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
}

Napi::Array toJsArray(Napi::Env env, std::vector<int64_t> const& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(v[i])));
  return a;
}

Napi::Value Info(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("compiledWith", std::to_string(NV_TENSORRT_MAJOR) + "." + std::to_string(NV_TENSORRT_MINOR) + "." +
                              std::to_string(NV_TENSORRT_PATCH));
  out.Set("runtime", decodeLibVersion(getInferLibVersion()));
  out.Set("api", PAFCAST_TRT_NAMED_TENSORS ? "named-tensors" : "bindings");
  try {
    GpuInfo g = currentGpu();
    Napi::Object gpu = Napi::Object::New(env);
    gpu.Set("name", g.name);
    gpu.Set("computeCapability", std::to_string(g.major) + "." + std::to_string(g.minor));
    gpu.Set("integrated", g.integrated);
    out.Set("gpu", gpu);
  } catch (std::exception const& e) {
    throw Napi::Error::New(env, std::string("no usable CUDA device: ") + e.what());
  }
  return out;
}

class Engine;

// Runs one inference off the JS thread; the caller's buffers are pinned and stay bound meanwhile.
class RunWorker final : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, Napi::Object owner, std::shared_ptr<EngineSession> session, std::atomic<bool>& busy)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), session_(std::move(session)), busy_(busy) {
    owner_ = Napi::Persistent(owner);
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      session_->runAndWait();
    } catch (std::exception const& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    busy_ = false;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(Napi::Error const& e) override {
    busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference owner_;
  std::shared_ptr<EngineSession> session_;
  std::atomic<bool>& busy_;
};

class Engine final : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {InstanceMethod("tensors", &Engine::Tensors), InstanceMethod("allocate", &Engine::Allocate),
                        InstanceMethod("bind", &Engine::Bind), InstanceMethod("setInputShape", &Engine::SetInputShape),
                        InstanceMethod("run", &Engine::Run), InstanceMethod("dispose", &Engine::Dispose)});
  }

  explicit Engine(Napi::CallbackInfo const& info) : Napi::ObjectWrap<Engine>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "Engine(path: string)");
    try {
      integrated_ = currentGpu().integrated;
      session_ = std::make_shared<EngineSession>(info[0].As<Napi::String>().Utf8Value(), sharedLogger());
    } catch (std::exception const& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  EngineSession& session(Napi::Env env) {
    if (!session_) throw Napi::Error::New(env, "engine was disposed");
    return *session_;
  }

  Napi::Value Tensors(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    auto const& tensors = session(env).tensors();
    Napi::Array out = Napi::Array::New(env, tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("name", tensors[i].name);
      t.Set("input", tensors[i].isInput);
      t.Set("dims", toJsArray(env, tensors[i].engineDims));
      if (tensors[i].isInput) {
        Napi::Object p = Napi::Object::New(env);
        p.Set("min", toJsArray(env, tensors[i].profileMin));
        p.Set("opt", toJsArray(env, tensors[i].profileOpt));
        p.Set("max", toJsArray(env, tensors[i].profileMax));
        t.Set("profile", p);
      }
      out.Set(static_cast<uint32_t>(i), t);
    }
    return out;
  }

  Napi::Value Allocate(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "allocate(bytes: number)");
    auto const bytes = static_cast<std::size_t>(info[0].As<Napi::Number>().Int64Value());
    std::shared_ptr<HostBuffer> buf;
    try {
      buf = HostBuffer::allocate(bytes, integrated_);
    } catch (std::exception const& e) {
      throw Napi::Error::New(env, e.what());
    }
    buffers_[buf->host()] = buf;
    // The ArrayBuffer shares ownership: memory lives until both JS and the engine let go of it.
    auto* hold = new std::shared_ptr<HostBuffer>(buf);
    return Napi::ArrayBuffer::New(env, buf->host(), bytes,
                                  [](Napi::Env, void*, std::shared_ptr<HostBuffer>* h) { delete h; }, hold);
  }

  Napi::Value Bind(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArrayBuffer())
      throw Napi::TypeError::New(env, "bind(name: string, buffer: ArrayBuffer)");
    auto found = buffers_.find(info[1].As<Napi::ArrayBuffer>().Data());
    std::shared_ptr<HostBuffer> buf = found == buffers_.end() ? nullptr : found->second.lock();
    if (!buf) throw Napi::TypeError::New(env, "bind() needs an ArrayBuffer returned by this engine's allocate()");
    try {
      session(env).bind(info[0].As<Napi::String>().Utf8Value(), buf);
    } catch (std::exception const& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }

  Napi::Value SetInputShape(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray())
      throw Napi::TypeError::New(env, "setInputShape(name: string, dims: number[])");
    if (busy_) throw Napi::Error::New(env, "setInputShape() while a run is in flight");
    Napi::Array js = info[1].As<Napi::Array>();
    std::vector<int64_t> dims;
    for (uint32_t i = 0; i < js.Length(); ++i) dims.push_back(js.Get(i).As<Napi::Number>().Int64Value());
    Napi::Object out = Napi::Object::New(env);
    try {
      EngineSession& s = session(env);
      s.setInputShape(info[0].As<Napi::String>().Utf8Value(), dims);
      for (auto const& t : s.tensors()) out.Set(t.name, toJsArray(env, s.currentShape(t.name)));
    } catch (std::exception const& e) {
      throw Napi::Error::New(env, e.what());
    }
    return out;
  }

  Napi::Value Run(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    session(env);
    if (busy_.exchange(true)) throw Napi::Error::New(env, "run() while another run is in flight");
    auto* worker = new RunWorker(env, Value(), session_, busy_);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  }

  Napi::Value Dispose(Napi::CallbackInfo const& info) {
    if (busy_) throw Napi::Error::New(info.Env(), "dispose() while a run is in flight");
    session_.reset();
    return info.Env().Undefined();
  }

  bool integrated_ = false;
  std::atomic<bool> busy_{false};
  std::shared_ptr<EngineSession> session_;
  std::map<void*, std::weak_ptr<HostBuffer>> buffers_;
};

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("Engine", Engine::define(env));
  return exports;
}

}  // namespace pafcast

// NODE_API_MODULE pastes the function name into an identifier, so it must be unqualified.
static Napi::Object InitPafcastTrt(Napi::Env env, Napi::Object exports) { return pafcast::InitAddon(env, exports); }
NODE_API_MODULE(pafcast_trt, InitPafcastTrt)
