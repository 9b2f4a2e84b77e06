import Foundation
import Remote
import SandboxSupport
import Testing

/// Upload's host-side script run by the real /bin/sh, with a faulty `cat` first on PATH: bytes
/// damaged on the way (same size) and a copy whose shell is hung up on midway. Either way the
/// destination keeps its old content and no part is left beside it.
@Suite struct UploadTests {
    /// LocalHost with `directory` first on PATH, as a host with a broken tool there would be.
    struct PathFirst: CommandRunner {
        let directory: String
        var destination: String { "local" }

        func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
            try await LocalHost().stream("PATH=\(shellQuote(directory)):\"$PATH\"; export PATH\n" + command, timeout: timeout, input: input, onOutput: onOutput)
        }
    }

    /// A scene: the destination holding "old", the local file "new content", a fake `cat`.
    func scene(fakeCat: String) throws -> (directory: URL, runner: PathFirst, upload: Upload) {
        let directory = try temporaryDirectory()
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try ("#!/bin/sh\n" + fakeCat + "\n").write(to: bin.appendingPathComponent("cat"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("cat").path)
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try "old".write(to: target.appendingPathComponent("botops"), atomically: true, encoding: .utf8)
        let local = directory.appendingPathComponent("new")
        try "new content".write(to: local, atomically: true, encoding: .utf8)
        return (directory, PathFirst(directory: bin.path), Upload(localPath: local.path, remotePath: target.appendingPathComponent("botops").path, mode: "755"))
    }

    func expectOldAndNoPart(_ directory: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        #expect(try String(contentsOf: target.appendingPathComponent("botops"), encoding: .utf8) == "old", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["botops"], "a part was left", sourceLocation: sourceLocation)
    }

    @Test func aCopyWithTheRightSizeButDamagedBytesIsRefused() async throws {
        // Same length, other bytes: a size check alone would install this.
        let (directory, runner, upload) = try scene(fakeCat: "exec tr a-z A-Z")
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = await #expect(throws: UploadError.self) { try await upload.run(on: runner, timeout: .seconds(30)) }
        #expect(error?.reason.contains("sha256") == true, "\(String(describing: error))")
        try expectOldAndNoPart(directory)
    }

    @Test func aCopyWhoseShellIsHungUpOnLeavesNoPart() async throws {
        // Part of the file written, then the shell hung up on, as sshd's end of a lost connection.
        let (directory, runner, upload) = try scene(fakeCat: "head -c 3; kill -HUP $PPID")
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect(throws: UploadError.self) { try await upload.run(on: runner, timeout: .seconds(30)) }
        try expectOldAndNoPart(directory)
    }

    @Test func anIntactCopyReplacesTheDestination() async throws {
        let (directory, _, upload) = try scene(fakeCat: "exit 1")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await upload.run(on: LocalHost(), timeout: .seconds(30))
        let target = directory.appendingPathComponent("dest dir 'odd' $x")
        #expect(try String(contentsOf: target.appendingPathComponent("botops"), encoding: .utf8) == "new content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["botops"])
    }
}
