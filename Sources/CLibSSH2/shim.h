#ifndef BOTOPS_CLIBSSH2_SHIM_H
#define BOTOPS_CLIBSSH2_SHIM_H
#include <libssh2.h>

// libssh2 exposes these as macros, which Swift cannot call.
static inline LIBSSH2_SESSION *botops_session_init(void) {
    return libssh2_session_init();
}
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
