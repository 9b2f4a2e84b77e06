#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Points each of stdin, stdout and stderr that the caller left closed (`<&-`, some schedulers)
/// at /dev/null. Called first thing by botops and bot-engine: otherwise the first descriptor the
/// program opens takes the number, and `exec` forwarded its own event or wake descriptor as the
/// command's stdin (seen: a command that never saw end-of-file), or bot-engine's output went
/// into its database connection.
public func openClosedStandardDescriptors() {
    for descriptor: Int32 in 0...2 where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
        let opened = open("/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY)
        if opened >= 0 && opened != descriptor {
            dup2(opened, descriptor)
            #if canImport(Glibc)
            Glibc.close(opened)
            #else
            Darwin.close(opened)
            #endif
        }
    }
}
