import CLibSSH2
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The few C library calls whose spelling differs between Linux (Glibc) and macOS (Darwin), so
// the rest of the module reads the same on both. The Mac build is not tested here.

/// `close(2)`, unambiguous beside the Swift methods named `close`.
@discardableResult
func closeDescriptor(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}

/// `connect(2)`, unambiguous beside the Swift functions named `connect`.
func connectSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    #if canImport(Glibc)
    return Glibc.connect(fd, address, length)
    #else
    return Darwin.connect(fd, address, length)
    #endif
}

/// SOCK_STREAM as the socket calls take it (an enum on Glibc, an Int32 on Darwin).
public let streamSocketType: Int32 = {
    #if canImport(Glibc)
    return Int32(SOCK_STREAM.rawValue)
    #else
    return SOCK_STREAM
    #endif
}()

/// A TCP socket closed on exec, so that no command botops starts inherits it: atomically where
/// the system can (Linux's SOCK_CLOEXEC), else right after creation.
func closeOnExecSocket(family: Int32, type: Int32, protocol: Int32) -> Int32 {
    #if canImport(Glibc)
    return socket(family, type | Int32(SOCK_CLOEXEC.rawValue), `protocol`)
    #else
    let fd = socket(family, type, `protocol`)
    if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fd
    #endif
}

/// A pipe whose two ends are closed on exec, so that a command spawned meanwhile by another
/// thread cannot keep this one's write end open (its reader would wait for that command's end).
func closeOnExecPipe(_ fds: inout [Int32]) -> Int32 {
    #if canImport(Glibc)
    return botops_pipe_cloexec(&fds)
    #else
    // Darwin has no pipe2; the window before fcntl is closed by LocalHost's spawn flag
    // (spawnClosesOtherDescriptors).
    let status = pipe(&fds)
    if status == 0 { for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }
    return status
    #endif
}

/// posix_spawn flags that close every descriptor the file actions do not name, where the system
/// has one (Darwin's POSIX_SPAWN_CLOEXEC_DEFAULT); Linux relies on close-on-exec descriptors.
let spawnClosesOtherDescriptors: Int32 = {
    #if canImport(Glibc)
    return 0
    #else
    return Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
    #endif
}()

/// The process environment, for posix_spawn (Darwin has no `environ` symbol for Swift).
public var processEnvironment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    #if canImport(Glibc)
    return environ
    #else
    return _NSGetEnviron().pointee!
    #endif
}
