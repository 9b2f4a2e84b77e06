import Foundation

/// Writes an executable file (a fake tool put first on PATH) from a child `/bin/sh`, never from
/// this process. Tests run in parallel threads that spawn processes: a file opened for writing
/// here would be inherited, still open, by any child spawned meanwhile, and exec'ing the file then
/// fails with ETXTBSY ("Text file busy") — the shell then silently runs the next tool on PATH,
/// the real one. A descriptor opened by another process cannot be inherited by ours.
public func writeExecutable(_ contents: String, to path: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", #"printf '%s' "$2" > "$1" && chmod 755 "$1""#, "sh", path, contents]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
        throw TestExecutableError(path: path, message: message)
    }
}

public struct TestExecutableError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "could not write the executable \(path): \(message)" }
}
