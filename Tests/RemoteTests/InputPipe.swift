import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pipe whose read end a command takes as stdin; a thread writes `data` into it, then closes
/// it, so the command sees end-of-file only after everything, at the pace it reads.
final class InputPipe: @unchecked Sendable {
    let readEnd: Int32

    init(_ data: [UInt8]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
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
