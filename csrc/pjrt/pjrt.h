#pragma once

// RAII wrapper of the PJRT C API. No PyTorch headers. Every PJRT_Error becomes
// a pjrt::Error carrying the plugin's message and code; nothing here aborts.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "pjrt_c_api.h"

namespace torch_pjrt::pjrt {

class Error : public std::runtime_error {
 public:
  Error(std::string message, PJRT_Error_Code code)
      : std::runtime_error(std::move(message)), code_(code) {}
  PJRT_Error_Code code() const { return code_; }

 private:
  PJRT_Error_Code code_;
};

// Values of plugin attributes and of client create options.
using NamedValue = std::variant<std::string, int64_t, std::vector<int64_t>, float, bool>;

// A loaded plugin library. Loading checks the API version (a clear Error when
// the plugin's major version differs or its minor version is older than the
// header's minimum we need) and runs PJRT_Plugin_Initialize.
//
// The library is never unloaded: plugins start threads and register atexit
// handlers, and PJRT does not support dlclose. Load each plugin once per process.
class Plugin {
 public:
  // The oldest PJRT C API minor version whose functions and Args fields cover
  // everything this wrapper uses (see plugin.cc for why this one).
  static constexpr int kMinApiMinor = 71;

  static std::shared_ptr<Plugin> load(const std::string& path);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const PJRT_Api* api() const { return api_; }
  const std::string& path() const { return path_; }
  int api_major() const;
  int api_minor() const;
  // PJRT_Plugin_Attributes: e.g. "xla_version", "stablehlo_current_version".
  std::map<std::string, NamedValue> attributes() const;

  // Throws Error when `error` is non-null (and destroys it).
  void check(PJRT_Error* error) const;
  // The Error `error` (non-null) describes; destroys `error`. Never throws
  // anything but std::bad_alloc, so it is usable in callbacks.
  Error take_error(PJRT_Error* error) const;

 private:
  Plugin(std::string path, void* handle, const PJRT_Api* api);
  std::string path_;
  void* handle_ = nullptr;
  const PJRT_Api* api_ = nullptr;
};

class Event {
 public:
  Event(std::shared_ptr<Plugin> plugin, PJRT_Event* event);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Blocks; throws Error if the event completed with an error.
  void wait();
  bool is_ready() const;
  // The error the event completed with; only meaningful once is_ready().
  std::optional<Error> error() const;
  // Runs `callback` once the event is ready (maybe at once, on this thread; or
  // later, on a plugin thread), with the error it completed with, if any.
  // Exceptions thrown by `callback` are swallowed: no plugin thread may unwind.
  void on_ready(std::function<void(std::optional<Error>)> callback) const;
  PJRT_Event* raw() const { return event_; }

 private:
  std::shared_ptr<Plugin> plugin_;
  PJRT_Event* event_;
};

class Device {
 public:
  Device(std::shared_ptr<Plugin> plugin, PJRT_Device* device);
  PJRT_Device* raw() const { return device_; }
  int id() const;
  int local_hardware_id() const;
  std::string kind() const;          // e.g. "cpu", "TPU v5 lite"
  std::string debug_string() const;  // e.g. "TFRT_CPU_0"
  std::string to_string() const;
  bool operator==(const Device& other) const { return device_ == other.device_; }

 private:
  std::shared_ptr<Plugin> plugin_;
  PJRT_Device* device_;
  PJRT_DeviceDescription* description_;
};

class Buffer {
 public:
  Buffer(std::shared_ptr<Plugin> plugin, PJRT_Buffer* buffer);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  PJRT_Buffer* raw() const { return buffer_; }
  PJRT_Buffer_Type element_type() const;
  std::vector<int64_t> dims() const;
  size_t on_device_size() const;
  // Byte size of the dense row-major host copy.
  size_t host_size() const;
  // Copies into `dst` (dense row-major, `size` bytes) and blocks until done.
  void to_host(void* dst, size_t size) const;
  // Starts the copy; the caller keeps `dst` alive until the event is ready.
  std::unique_ptr<Event> to_host_async(void* dst, size_t size) const;
  // Ready when the value is computed; errors of the producing program surface here.
  std::unique_ptr<Event> ready_event() const;
  // True once the buffer was donated to an execution (or deleted).
  bool is_deleted() const;
  Device device() const;
  // An asynchronous copy onto another device of the same client (an Error when
  // `device` is the buffer's own device).
  std::unique_ptr<Buffer> copy_to_device(const Device& device) const;

 private:
  std::shared_ptr<Plugin> plugin_;
  PJRT_Buffer* buffer_;
};

// One entry of CompileOptionsProto.env_option_overrides: XLA sets the
// xla.DebugOptions field of that name. A string is parsed by XLA according to
// the field's type, the way an XLA_FLAGS value is.
using OptionOverride = std::variant<std::string, bool, int64_t>;

// What we encode into xla.CompileOptionsProto ourselves (no protobuf dependency).
// A single-device program (1 replica, 1 partition) is compiled portable: the
// executable runs on whichever addressable device execute() names.
struct CompileOptions {
  int64_t num_replicas = 1;
  int64_t num_partitions = 1;
  // Applied in order, so a later entry of the same name wins.
  std::vector<std::pair<std::string, OptionOverride>> env_option_overrides;
  std::string serialize() const;
};

struct ExecuteOptions {
  // Inputs that must not be donated even when the program aliases them.
  std::vector<int64_t> non_donatable_input_indices;
};

struct ExecuteResult {
  std::vector<std::unique_ptr<Buffer>> outputs;
  std::unique_ptr<Event> done;  // completion of the whole execution
};

class LoadedExecutable {
 public:
  LoadedExecutable(std::shared_ptr<Plugin> plugin, PJRT_LoadedExecutable* executable);
  ~LoadedExecutable();
  LoadedExecutable(const LoadedExecutable&) = delete;
  LoadedExecutable& operator=(const LoadedExecutable&) = delete;

  size_t num_outputs() const { return num_outputs_; }
  // Runs on `device` (one of the executable's addressable devices); every
  // argument must already live on `device`. Returns as soon as the execution
  // is enqueued (XLA:CPU runs small programs inline, so `done` may already be
  // ready). Donated inputs are is_deleted() on return. XLA:CPU checks only the
  // byte size of arguments, not their shape or type: callers must.
  ExecuteResult execute(std::span<Buffer* const> arguments, const Device& device,
                        const ExecuteOptions& options = {}) const;
  std::string serialize() const;

 private:
  std::shared_ptr<Plugin> plugin_;
  PJRT_LoadedExecutable* executable_;
  PJRT_Executable* executable_view_ = nullptr;
  size_t num_outputs_ = 0;
};

enum class HostBufferSemantics {
  kImmutableOnlyDuringCall,          // the plugin copies before returning
  kImmutableUntilTransferCompletes,  // caller keeps data alive until the event
};

// Buffers and executables must be destroyed before the Client that made them
// (PJRT's rule; they keep only the plugin alive, not the client).
class Client {
 public:
  // Options are plugin-specific, e.g. {"cpu_device_count", int64_t{4}} for XLA:CPU.
  static std::unique_ptr<Client> create(std::shared_ptr<Plugin> plugin,
                                        const std::map<std::string, NamedValue>& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::shared_ptr<Plugin>& plugin() const { return plugin_; }
  PJRT_Client* raw() const { return client_; }
  std::string platform_name() const;
  std::string platform_version() const;
  const std::vector<Device>& addressable_devices() const { return devices_; }

  std::unique_ptr<Buffer> buffer_from_host(
      const void* data, PJRT_Buffer_Type type, std::span<const int64_t> dims, const Device& device,
      HostBufferSemantics semantics = HostBufferSemantics::kImmutableOnlyDuringCall,
      std::unique_ptr<Event>* done_with_host_buffer = nullptr) const;

  // `mlir` is a StableHLO module in MLIR text form.
  std::unique_ptr<LoadedExecutable> compile(const std::string& mlir,
                                            const CompileOptions& options = {}) const;
  // `options` replace those stored in `serialized`, so a cached executable runs
  // exactly as its cache key says.
  std::unique_ptr<LoadedExecutable> deserialize(const std::string& serialized,
                                                const CompileOptions& options = {}) const;

 private:
  Client(std::shared_ptr<Plugin> plugin, PJRT_Client* client);
  std::shared_ptr<Plugin> plugin_;
  PJRT_Client* client_;
  std::vector<Device> devices_;
};

// Byte width of one element of a PJRT buffer type (sub-byte types are rounded up).
size_t byte_width(PJRT_Buffer_Type type);

}  // namespace torch_pjrt::pjrt
