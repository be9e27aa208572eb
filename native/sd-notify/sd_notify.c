/*
 * sd_notify transport for pafcast: sends one datagram to an AF_UNIX socket.
 *
 * Node cannot do this itself (libuv has no unix datagram sockets), and the npm addons that can
 * either need their own install scripts or publish no arm64 build. This is the whole of what the
 * agent needs, in plain N-API (ABI-stable across Node versions), built by build.sh with the C
 * compiler and the headers of the node that will load it.
 *
 *   sendDatagram(path: string, message: Buffer): void   -- throws Error on failure
 *
 * `path` is NOTIFY_SOCKET as systemd sets it: a filesystem path, or "@name" for the abstract
 * namespace. A fresh socket per message keeps nothing open that could hold the event loop.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value send_datagram(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
    return fail(env, "sendDatagram(path, message) takes two arguments");

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  /* One byte more than sun_path holds, so an over-long path is detected instead of cut. */
  char path[sizeof addr.sun_path + 1];
  size_t path_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok)
    return fail(env, "sendDatagram: path must be a string");
  if (path_len == 0 || path_len >= sizeof addr.sun_path)
    return fail(env, "sendDatagram: socket path is empty or longer than a unix socket address allows");

  bool is_buffer = false;
  napi_is_buffer(env, argv[1], &is_buffer);
  void *data = NULL;
  size_t length = 0;
  if (!is_buffer || napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok)
    return fail(env, "sendDatagram: message must be a Buffer");

  memcpy(addr.sun_path, path, path_len);
  socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
  if (path[0] == '@') addr.sun_path[0] = '\0'; /* abstract namespace: no terminating NUL counted */

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    char message[160];
    snprintf(message, sizeof message, "socket(AF_UNIX, SOCK_DGRAM): %s", strerror(errno));
    return fail(env, message);
  }
  /* MSG_DONTWAIT: a stuck receiver must never block the event loop; EAGAIN is reported instead. */
  ssize_t sent = sendto(fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addr_len);
  int error = errno;
  close(fd);
  if (sent < 0) {
    char message[sizeof path + 64];
    snprintf(message, sizeof message, "sendto %s: %s", path, strerror(error));
    return fail(env, message);
  }
  if ((size_t)sent != length) return fail(env, "sendDatagram: datagram was truncated");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "sendDatagram", NAPI_AUTO_LENGTH, send_datagram, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sendDatagram", fn) != napi_ok) return NULL;
  return exports;
}
