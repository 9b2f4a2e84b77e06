// Runs N commands concurrently over one botops SSH connection and prints the wall time in
// milliseconds; bench/transport.py compares it with N sequential `ssh` invocations.
import BotOpsKit
import Foundation
import Remote

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: TransportBench CONFIG COUNT COMMAND\n".utf8))
    exit(2)
}
let config = try BotOpsConfig.load(path: arguments[1])
let clock = ContinuousClock()
let start = clock.now
let host = try await ConnectionSettings(host: config.host, sshConfigPath: config.sshConfig).connect()
let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
    for _ in 0..<count {
        group.addTask { try await host.run(arguments[3]).succeeded }
    }
    var failed = 0
    for try await succeeded in group where !succeeded { failed += 1 }
    return failed
}
await host.close()
let elapsed = clock.now - start
print(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
exit(failures == 0 ? 0 : 1)
