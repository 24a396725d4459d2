// The llama.cpp/ggml API surface that Sluice binds with jextract (see ../scripts/generate-bindings.sh).
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml-cuda.h"
#include "gguf.h"
#include "llama.h"
