import Foundation
import Remote
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-way channel whose read end a command takes as stdin; a thread writes `data` into it, then closes
/// it, so the command sees end-of-file only after everything, at the pace it reads.
final class InputPipe: @unchecked Sendable {
    let readEnd: Int32

    init(_ data: [UInt8]) throws {
        var fds: [Int32] = [0, 0]
        // Close-on-exec from the start (a socket pair can be made so atomically; a pipe cannot here),
        // or a command started meanwhile would hold the write end open and never see end-of-file.
        #if canImport(Glibc)
        guard socketpair(AF_UNIX, streamSocketType | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { throw POSIXError(.EMFILE) }
        #else
        guard socketpair(AF_UNIX, streamSocketType, 0, &fds) == 0 else { throw POSIXError(.EMFILE) }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }  // not atomic on Darwin: tests run on Linux
        #endif
        readEnd = fds[0]
        let writeEnd = fds[1]
        Thread.detachNewThread {
            var offset = 0
            while offset < data.count {
                let written = data[offset...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
            close(writeEnd)
        }
    }

    deinit {
        close(readEnd)
    }
}
