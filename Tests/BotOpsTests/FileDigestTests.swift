import Foundation
import HostCommands
import Remote
import Testing

/// A host file's size and sha256 are one probe (backup's roles file, install-host's installed
/// files), run here by this machine's shell on files of the test's own.
@Suite struct FileDigestTests {
    @Test func sizesAndDigestsComeInOrderWhateverTheNames() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("botops-digest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A newline or a backslash in a name once shifted or prefixed sha256sum's lines.
        let files = ["plain.sql": "", "with space.sql": "roles\n", "new\nline": "x", "back\\slash": String(repeating: "a", count: 70_000)]
        for (name, text) in files { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        let names = files.keys.sorted()
        let digests = try await FileDigest.probe(names, in: "\(directory.path)").run(on: LocalHost())
        let expected = names.map { name in
            FileDigest(name: name, size: Int64(files[name, default: ""].utf8.count), sha256: StreamingSHA256.hex(of: Array(files[name, default: ""].utf8)))
        }
        #expect(digests == expected)
        #expect(digests.first { $0.name == "plain.sql" }?.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        await #expect(throws: ProbeOutputError.self) { try await FileDigest.probe(["plain.sql", "missing"], in: "\(directory.path)").run(on: LocalHost()) }
    }
}
