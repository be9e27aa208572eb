# Built only by scripts/build-tensorrt-addon.sh (never by `npm ci`: package.json has no install script
# and this directory has no package.json, so npm does not run node-gyp here).
# The script passes the directories it found: -Dtrt_include=... -Dtrt_lib=... -Dcuda_home=...
{
  "variables": {
    "trt_include%": "/usr/include/aarch64-linux-gnu",
    "trt_lib%": "/usr/lib/aarch64-linux-gnu",
    "cuda_home%": "/usr/local/cuda"
  },
  "targets": [
    {
      "target_name": "pafcast_trt",
      "sources": ["src/addon.cc", "src/engine_session.cc", "src/host_buffer.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(trt_include)",
        "<(cuda_home)/include"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "libraries": [
        "-L<(trt_lib)",
        "-L<(cuda_home)/lib64",
        "-lnvinfer",
        "-lcudart",
        "-Wl,-rpath,<(cuda_home)/lib64"
      ]
    }
  ]
}
