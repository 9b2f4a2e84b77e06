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

/// The process environment, for posix_spawn.
var processEnvironment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
    #if canImport(Glibc)
    return environ
    #else
    return _NSGetEnviron().pointee!
    #endif
}
