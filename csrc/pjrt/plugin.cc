#include <dlfcn.h>

#include "pjrt/c_api.h"
#include "pjrt/pjrt.h"

// Why Plugin::kMinApiMinor is 71: 0.57 rearranged PJRT_Api, so an older
// plugin's function table cannot be read with this header at all; 0.71 added
// PJRT_Executable_DeserializeAndLoad_Args::overridden_serialized_compile_options,
// which Client::deserialize sets. Everything else used here is older
// (non_donatable_input_indices 0.39, execute_device and the rest earlier).
static_assert(PJRT_API_MINOR >= torch_pjrt::pjrt::Plugin::kMinApiMinor,
              "the PJRT C API header is older than what the wrapper needs");

namespace torch_pjrt::pjrt {
namespace {

std::string version_string(int major, int minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string last_dl_error() {
  const char* message = dlerror();
  return message != nullptr ? message : "unknown dynamic loader error";
}

// Validates what GetPjrtApi returned before anything in it is called.
void check_version(const std::string& path, const PJRT_Api* api) {
  const int major = api->pjrt_api_version.major_version;
  const int minor = api->pjrt_api_version.minor_version;
  if (major != PJRT_API_MAJOR || minor < Plugin::kMinApiMinor) {
    throw Error("PJRT plugin '" + path + "' implements PJRT C API " + version_string(major, minor) +
                    ", but torch_pjrt needs " +
                    version_string(PJRT_API_MAJOR, Plugin::kMinApiMinor) + " or a newer " +
                    std::to_string(PJRT_API_MAJOR) + ".x",
                PJRT_Error_Code_FAILED_PRECONDITION);
  }
}

}  // namespace

std::shared_ptr<Plugin> Plugin::load(const std::string& path) {
  // RTLD_LOCAL: plugins bundle their own LLVM/protobuf/abseil, which must not
  // interpose on symbols of other libraries in the process (torch's, above all).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw Error("cannot load PJRT plugin '" + path + "': " + last_dl_error(),
                PJRT_Error_Code_NOT_FOUND);
  }
  const PJRT_Api* api = nullptr;
  try {
    dlerror();  // dlsym reports failure only through dlerror
    using GetPjrtApi = const PJRT_Api* (*)();
    auto get_api = reinterpret_cast<GetPjrtApi>(dlsym(handle, "GetPjrtApi"));
    if (get_api == nullptr) {
      throw Error("'" + path + "' is not a PJRT plugin (no GetPjrtApi symbol): " + last_dl_error(),
                  PJRT_Error_Code_INVALID_ARGUMENT);
    }
    api = get_api();
    if (api == nullptr) {
      throw Error("PJRT plugin '" + path + "': GetPjrtApi returned null", PJRT_Error_Code_INTERNAL);
    }
    check_version(path, api);
    // Errors could not even be reported without these.
    if (api->PJRT_Error_Destroy == nullptr || api->PJRT_Error_Message == nullptr) {
      throw Error("PJRT plugin '" + path + "' lacks PJRT_Error_Destroy or PJRT_Error_Message",
                  PJRT_Error_Code_INVALID_ARGUMENT);
    }
  } catch (...) {
    // Nothing of the library ran but its static constructors, so unloading is safe.
    dlclose(handle);
    throw;
  }

  // From here the plugin may have started threads: the handle stays open for
  // good (see pjrt.h), so an error below leaves it loaded but unused.
  std::shared_ptr<Plugin> plugin(new Plugin(path, handle, api));
  auto args = TORCH_PJRT_ARGS(PJRT_Plugin_Initialize_Args);
  try {
    TORCH_PJRT_CALL(*plugin, PJRT_Plugin_Initialize, &args);
  } catch (const Error& e) {
    throw Error("PJRT plugin '" + path + "' failed to initialize: " + e.what(), e.code());
  }
  return plugin;
}

Plugin::Plugin(std::string path, void* handle, const PJRT_Api* api)
    : path_(std::move(path)), handle_(handle), api_(api) {}

// Deliberately no dlclose (see pjrt.h).
Plugin::~Plugin() = default;

int Plugin::api_major() const { return api_->pjrt_api_version.major_version; }

int Plugin::api_minor() const { return api_->pjrt_api_version.minor_version; }

std::map<std::string, NamedValue> Plugin::attributes() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Plugin_Attributes_Args);
  TORCH_PJRT_CALL(*this, PJRT_Plugin_Attributes, &args);
  return detail::from_c(args.attributes, args.num_attributes);
}

Error Plugin::take_error(PJRT_Error* error) const {
  std::string message;
  PJRT_Error_Code code = PJRT_Error_Code_UNKNOWN;
  auto message_args = TORCH_PJRT_ARGS(PJRT_Error_Message_Args);
  message_args.error = error;
  api_->PJRT_Error_Message(&message_args);
  message = detail::to_string(message_args.message, message_args.message_size);
  if (api_->PJRT_Error_GetCode != nullptr) {
    auto code_args = TORCH_PJRT_ARGS(PJRT_Error_GetCode_Args);
    code_args.error = error;
    // GetCode reports its own failure as a second error; the code then stays UNKNOWN.
    PJRT_Error* code_error = api_->PJRT_Error_GetCode(&code_args);
    if (code_error == nullptr) {
      code = code_args.code;
    } else {
      auto destroy = TORCH_PJRT_ARGS(PJRT_Error_Destroy_Args);
      destroy.error = code_error;
      api_->PJRT_Error_Destroy(&destroy);
    }
  }
  auto destroy = TORCH_PJRT_ARGS(PJRT_Error_Destroy_Args);
  destroy.error = error;
  api_->PJRT_Error_Destroy(&destroy);
  return Error(std::move(message), code);
}

void Plugin::check(PJRT_Error* error) const {
  if (error != nullptr) throw take_error(error);
}

}  // namespace torch_pjrt::pjrt
