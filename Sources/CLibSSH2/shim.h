#ifndef BOTOPS_CLIBSSH2_SHIM_H
#define BOTOPS_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

// Receives like libssh2's own recv (negative errno on failure) and counts the bytes, so the caller
// knows when libssh2 pulled packets off the socket into its queue: packets for a channel that was
// already visited in that pass would otherwise wait there while the caller sleeps on the socket.
static inline ssize_t botops_counting_recv(libssh2_socket_t socket, void *buffer, size_t length, int flags, void **abstract) {
    ssize_t received = recv(socket, buffer, length, flags);
    if (received < 0) return -errno;
    if (abstract && *abstract) *(uint64_t *)(*abstract) += (uint64_t)received;
    return received;
}

// A session whose received byte count is kept in *counter.
static inline LIBSSH2_SESSION *botops_session_init(uint64_t *counter) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, counter);
    if (session) libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)botops_counting_recv);
    return session;
}

// libssh2 exposes these as macros, which Swift cannot call.
static inline LIBSSH2_CHANNEL *botops_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_session(session);
}
static inline int botops_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_exec(channel, command);
}
static inline ssize_t botops_channel_read_stdout(LIBSSH2_CHANNEL *channel, char *buf, size_t len) {
    return libssh2_channel_read(channel, buf, len);
}
static inline ssize_t botops_channel_read_stderr(LIBSSH2_CHANNEL *channel, char *buf, size_t len) {
    return libssh2_channel_read_stderr(channel, buf, len);
}
static inline int botops_channel_eof(LIBSSH2_CHANNEL *channel) {
    return libssh2_channel_eof(channel);
}
#endif
