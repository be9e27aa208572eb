// Which TensorRT API generation this build talks to, decided once from the headers' version macros.
//   TensorRT 8.0-8.4 (JetPack 4.6.x, 5.0): binding indices, setBindingDimensions, enqueueV2.
//   TensorRT 8.5+    (JetPack 5.1, 6.x):   named I/O tensors, setInputShape, setTensorAddress, enqueueV3.
// 8.5 still has the binding API but deprecates it; 10.x removed it.
#pragma once

#include <NvInferVersion.h>

#if NV_TENSORRT_MAJOR < 8
#error "pafcast's TensorRT addon needs TensorRT 8.0 or newer (JetPack 4.6 or newer)"
#endif

#if NV_TENSORRT_MAJOR > 8 || (NV_TENSORRT_MAJOR == 8 && NV_TENSORRT_MINOR >= 5)
#define PAFCAST_TRT_NAMED_TENSORS 1
#else
#define PAFCAST_TRT_NAMED_TENSORS 0
#endif
