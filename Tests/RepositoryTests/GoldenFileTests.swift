import Foundation
import SandboxSupport
import Testing

/// The golden-file comparison the compatibility tests use: a missing file fails, recording it
/// (`BOTOPS_RECORD_GOLDEN=1`) fails too, so no run passes without a reviewed file to compare with.
struct GoldenFileTests {
    @Test func aMissingFileFailsAndRecordingItFailsTooThenItIsCompared() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("golden.txt")

        let missing = try GoldenFile.mismatch(file, "written\n", environment: [:])
        #expect(missing?.contains("is missing") == true, "\(missing ?? "passed")")
        #expect(!FileManager.default.fileExists(atPath: file.path), "recorded without being asked to")

        let recorded = try GoldenFile.mismatch(file, "written\n", environment: ["BOTOPS_RECORD_GOLDEN": "1"])
        #expect(recorded?.contains("recorded") == true, "a recording run passed: \(recorded ?? "passed")")
        #expect(try String(contentsOf: file, encoding: .utf8) == "written\n")

        #expect(try GoldenFile.mismatch(file, "written\n", environment: ["BOTOPS_RECORD_GOLDEN": "1"]) == nil)
        let changed = try GoldenFile.mismatch(file, "changed\n", environment: ["BOTOPS_RECORD_GOLDEN": "1"])
        #expect(changed?.contains("changed") == true, "a present golden file is never rewritten: \(changed ?? "passed")")
        #expect(try String(contentsOf: file, encoding: .utf8) == "written\n")
    }
}
