#ifndef BOTOPS_CLIBSSH2_SHIM_H
#define BOTOPS_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <errno.h>
#ifdef __APPLE__
#include <malloc/malloc.h>
#define botops_usable_size(pointer) malloc_size(pointer)
#else
#include <malloc.h>
#define botops_usable_size(pointer) malloc_usable_size(pointer)
#endif
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

// What a connection learns about its session that libssh2 1.10 does not expose.
typedef struct {
    // Bytes libssh2 has read from the socket: packets it pulled into its queue for a channel that
    // was already visited in a pass would otherwise wait there while the caller sleeps on the
    // socket; and any byte at all shows the peer is alive.
    uint64_t received;
    // Our id of the channel whose open completed last (-1: none seen). Opens run one at a time.
    int64_t opened_channel;
    // Channels for which the host sent "exit-status". libssh2 keeps the value but reads 0 both for
    // "exit 0" and for "no status at all"; a ring of recent ones tells the two apart.
    uint32_t exit_status_channels[64];
    uint8_t exit_status_used[64];
    unsigned exit_status_next;
} botops_session_state;

static inline uint32_t botops_u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

// libssh2 frees every packet payload through the session's allocator once it has handled it.
// Two payloads matter (RFC 4254; a payload starts with its message number):
//   SSH_MSG_CHANNEL_OPEN (90) "session" <our channel id> ...  — the open request we sent;
//   SSH_MSG_CHANNEL_REQUEST (98) <our channel id> "exit-status" ... — the host's report.
static inline void botops_inspect_freed(botops_session_state *state, const unsigned char *p, size_t size) {
    static const unsigned char open_session[] = {0, 0, 0, 7, 's', 'e', 's', 's', 'i', 'o', 'n'};
    static const unsigned char exit_status[] = {0, 0, 0, 11, 'e', 'x', 'i', 't', '-', 's', 't', 'a', 't', 'u', 's'};
    if (size >= 16 && p[0] == 90 && memcmp(p + 1, open_session, sizeof open_session) == 0) {
        state->opened_channel = botops_u32(p + 12);
    } else if (size >= 20 && p[0] == 98 && memcmp(p + 5, exit_status, sizeof exit_status) == 0) {
        unsigned slot = state->exit_status_next++ % 64;
        state->exit_status_channels[slot] = botops_u32(p + 1);
        state->exit_status_used[slot] = 1;
    }
}

static inline void *botops_alloc(size_t count, void **abstract) {
    (void)abstract;
    return malloc(count);
}

static inline void *botops_realloc(void *pointer, size_t count, void **abstract) {
    (void)abstract;
    return realloc(pointer, count);
}

static inline void botops_free(void *pointer, void **abstract) {
    if (pointer && abstract && *abstract) {
        botops_inspect_freed((botops_session_state *)*abstract, pointer, botops_usable_size(pointer));
    }
    free(pointer);
}

// Receives like libssh2's own recv (negative errno on failure) and counts the bytes.
static inline ssize_t botops_counting_recv(libssh2_socket_t socket, void *buffer, size_t length, int flags, void **abstract) {
    ssize_t received = recv(socket, buffer, length, flags);
    if (received < 0) return -errno;
    if (abstract && *abstract) ((botops_session_state *)*abstract)->received += (uint64_t)received;
    return received;
}

static inline LIBSSH2_SESSION *botops_session_init(botops_session_state *state) {
    memset(state, 0, sizeof *state);
    state->opened_channel = -1;
    LIBSSH2_SESSION *session = libssh2_session_init_ex(botops_alloc, botops_free, botops_realloc, state);
    if (session) libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)botops_counting_recv);
    return session;
}

// True once (the entry is consumed) if the host reported an exit status for `channel`.
static inline int botops_take_exit_status(botops_session_state *state, uint32_t channel) {
    for (unsigned slot = 0; slot < 64; slot++) {
        if (state->exit_status_used[slot] && state->exit_status_channels[slot] == channel) {
            state->exit_status_used[slot] = 0;
            return 1;
        }
    }
    return 0;
}

// OpenSSH hashes known_hosts names with HMAC-SHA1; libssh2 links libcrypto already.
static inline int botops_hmac_sha1(const unsigned char *key, int key_length, const unsigned char *data, size_t data_length, unsigned char *digest) {
    unsigned int length = 0;
    return HMAC(EVP_sha1(), key, key_length, data, data_length, digest, &length) != NULL && length == 20;
}

#ifdef __linux__
#include <fcntl.h>
// pipe2 is a GNU extension that Swift's Glibc module does not show: a pipe closed on exec atomically.
static inline int botops_pipe_cloexec(int fds[2]) {
    extern int pipe2(int pipefd[2], int flags);
    return pipe2(fds, O_CLOEXEC);
}
#endif

// How much a command may send before botops has read it. libssh2's read first drains the socket
// into its own queue, so a stream that arrives faster than it is written out (a download) keeps
// about a window's worth resident: 1 MB, half of libssh2's and OpenSSH's 2 MB default (2 MB of
// `backup --download`'s 31 MB peak RSS, README: Benchmarks). Still 20 MB/s at a 50 ms round trip.
#define BOTOPS_CHANNEL_WINDOW (1024 * 1024)

// libssh2 exposes these as macros, which Swift cannot call.
static inline LIBSSH2_CHANNEL *botops_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof "session" - 1, BOTOPS_CHANNEL_WINDOW, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
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
static inline ssize_t botops_channel_write_stdin(LIBSSH2_CHANNEL *channel, const char *buf, size_t len) {
    return libssh2_channel_write(channel, buf, len);
}
static inline int botops_channel_eof(LIBSSH2_CHANNEL *channel) {
    return libssh2_channel_eof(channel);
}
#endif
