import Foundation

/// What `/bin/sh -c script` prints on stdout here, run in `directory`: for probe scripts tested on
/// this machine's own tools (df, git) without a host.
func localShellOutput(_ script: String, in directory: URL? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
