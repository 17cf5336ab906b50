#include "pjrt/c_api.h"

namespace torch_pjrt::pjrt {
namespace {

void destroy(const PJRT_Api* api, PJRT_Client* client) noexcept {
  auto args = TORCH_PJRT_ARGS(PJRT_Client_Destroy_Args);
  args.client = client;
  detail::call_quietly(api, api->PJRT_Client_Destroy, &args);
}

PJRT_HostBufferSemantics to_c(HostBufferSemantics semantics) {
  switch (semantics) {
    case HostBufferSemantics::kImmutableOnlyDuringCall:
      return PJRT_HostBufferSemantics_kImmutableOnlyDuringCall;
    case HostBufferSemantics::kImmutableUntilTransferCompletes:
      return PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes;
  }
  throw Error("unknown HostBufferSemantics", PJRT_Error_Code_INVALID_ARGUMENT);
}

}  // namespace

std::unique_ptr<Client> Client::create(std::shared_ptr<Plugin> plugin,
                                       const std::map<std::string, NamedValue>& options) {
  std::vector<PJRT_NamedValue> c_options = detail::to_c(options);
  auto args = TORCH_PJRT_ARGS(PJRT_Client_Create_Args);
  args.create_options = c_options.data();
  args.num_options = c_options.size();
  try {
    TORCH_PJRT_CALL(*plugin, PJRT_Client_Create, &args);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // XLA:CPU lets a C++ exception escape through the C API when an option has
    // the wrong type (std::bad_variant_access); callers should see one kind of error.
    throw Error(std::string("PJRT_Client_Create rejected the options: ") + e.what(),
                PJRT_Error_Code_INVALID_ARGUMENT);
  }
  return std::unique_ptr<Client>(new Client(std::move(plugin), args.client));
}

Client::Client(std::shared_ptr<Plugin> plugin, PJRT_Client* client)
    : plugin_(std::move(plugin)), client_(client) {
  // The constructor owns `client` even when it throws, when the destructor
  // does not run.
  try {
    auto args = TORCH_PJRT_ARGS(PJRT_Client_AddressableDevices_Args);
    args.client = client_;
    TORCH_PJRT_CALL(*plugin_, PJRT_Client_AddressableDevices, &args);
    devices_.reserve(args.num_addressable_devices);
    for (size_t i = 0; i < args.num_addressable_devices; ++i) {
      devices_.emplace_back(plugin_, args.addressable_devices[i]);
    }
  } catch (...) {
    destroy(plugin_->api(), client_);
    throw;
  }
}

Client::~Client() { destroy(plugin_->api(), client_); }

std::string Client::platform_name() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Client_PlatformName_Args);
  args.client = client_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Client_PlatformName, &args);
  return detail::to_string(args.platform_name, args.platform_name_size);
}

std::string Client::platform_version() const {
  auto args = TORCH_PJRT_ARGS(PJRT_Client_PlatformVersion_Args);
  args.client = client_;
  TORCH_PJRT_CALL(*plugin_, PJRT_Client_PlatformVersion, &args);
  return detail::to_string(args.platform_version, args.platform_version_size);
}

std::unique_ptr<Buffer> Client::buffer_from_host(
    const void* data, PJRT_Buffer_Type type, std::span<const int64_t> dims, const Device& device,
    HostBufferSemantics semantics, std::unique_ptr<Event>* done_with_host_buffer) const {
  auto args = TORCH_PJRT_ARGS(PJRT_Client_BufferFromHostBuffer_Args);
  args.client = client_;
  args.data = data;
  args.type = type;
  args.dims = dims.data();
  args.num_dims = dims.size();
  // No byte_strides and no device_layout: dense row-major on both sides.
  args.host_buffer_semantics = to_c(semantics);
  args.device = device.raw();
  TORCH_PJRT_CALL(*plugin_, PJRT_Client_BufferFromHostBuffer, &args);
  auto buffer = std::make_unique<Buffer>(plugin_, args.buffer);
  auto done = std::make_unique<Event>(plugin_, args.done_with_host_buffer);
  if (done_with_host_buffer != nullptr) {
    *done_with_host_buffer = std::move(done);
  } else if (semantics == HostBufferSemantics::kImmutableUntilTransferCompletes) {
    // Nobody else can tell when `data` may be freed, so wait for it here.
    done->wait();
  }
  return buffer;
}

std::unique_ptr<LoadedExecutable> Client::compile(const std::string& mlir,
                                                  const CompileOptions& options) const {
  static constexpr char kFormat[] = "mlir";
  auto program = TORCH_PJRT_ARGS(PJRT_Program);
  // PJRT_Program::code is non-const for the APIs that write it; Compile only reads.
  program.code = const_cast<char*>(mlir.data());
  program.code_size = mlir.size();
  program.format = kFormat;
  program.format_size = sizeof(kFormat) - 1;

  const std::string serialized_options = options.serialize();
  auto args = TORCH_PJRT_ARGS(PJRT_Client_Compile_Args);
  args.client = client_;
  args.program = &program;
  args.compile_options = serialized_options.data();
  args.compile_options_size = serialized_options.size();
  TORCH_PJRT_CALL(*plugin_, PJRT_Client_Compile, &args);
  return std::make_unique<LoadedExecutable>(plugin_, args.executable);
}

std::unique_ptr<LoadedExecutable> Client::deserialize(const std::string& serialized,
                                                      const CompileOptions& options) const {
  const std::string serialized_options = options.serialize();
  auto args = TORCH_PJRT_ARGS(PJRT_Executable_DeserializeAndLoad_Args);
  args.client = client_;
  args.serialized_executable = serialized.data();
  args.serialized_executable_size = serialized.size();
  args.overridden_serialized_compile_options = serialized_options.data();
  args.overridden_serialized_compile_options_size = serialized_options.size();
  TORCH_PJRT_CALL(*plugin_, PJRT_Executable_DeserializeAndLoad, &args);
  return std::make_unique<LoadedExecutable>(plugin_, args.loaded_executable);
}

}  // namespace torch_pjrt::pjrt
