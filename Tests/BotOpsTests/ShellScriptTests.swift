import Foundation
import HostCommands
import Remote
import Testing

@Suite struct ShellScriptTests {
    /// What /bin/sh makes of a script: its words, each ended by a NUL.
    func words(_ script: ShellScript) async throws -> [String] {
        let result = try await LocalHost().run("for word in \(script.text); do printf '%s\\0' \"$word\"; done")
        return result.stdoutText.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    @Test func interpolatedValuesAreOneWordEachWhateverTheyHold() async throws {
        let hostile = ["a b", "$(touch /tmp/pwned)", "'; rm -rf / #", "`id`", "x\ny", "*", ""]
        for value in hostile {
            let script: ShellScript = "echo \(value) end"
            #expect(try await words(script) == ["echo", value, "end"], "\(value)")
        }
        let list: ShellScript = "\(hostile)"
        #expect(try await words(list) == hostile)
    }

    @Test func templatesQuoteTheirValuesAndKeepTheirLiteralText() async throws {
        let script = ShellScript(template: [.literal("echo "), .words(["docker", "compose", "-f", "my file.yml"]), .literal(" build "), .words([])])
        #expect(script.text == "echo docker compose -f 'my file.yml' build ''")
        #expect(try await words(script) == ["echo", "docker", "compose", "-f", "my file.yml", "build", ""])
    }

    @Test func redactionsMaskTheCommandAndItsOutput() async throws {
        let command = RemoteCommand("echo \("token=s3cret")", timeout: .seconds(5), redactions: ["s3cret"])
        #expect(command.displayText == "echo token=***")
        let lines = Lines()
        let result = try await LocalHost().run(command) { _, line in lines.append(line) }
        #expect(result.shownOutput == "token=***")
        #expect(lines.all == ["token=***"])
    }

    @Test func secretOutputIsNeverShownNorStreamed() async throws {
        let command = RemoteCommand("echo POSTGRES_PASSWORD=hunter2", timeout: .seconds(5), outputIsSecret: true)
        let lines = Lines()
        let result = try await LocalHost().run(command) { _, line in lines.append(line) }
        #expect(result.stdout.contains("hunter2"))
        #expect(!result.shownOutput.contains("hunter2"))
        #expect(lines.all.isEmpty)
    }

    @Test func lineSplitterJoinsChunksSplitMidLine() {
        let lines = Lines()
        let splitter = LineSplitter { _, line in lines.append(line) }
        splitter.feed(.stdout, Array("pass=se".utf8))
        splitter.feed(.stdout, Array("cret\nnext".utf8))
        splitter.flush()
        #expect(lines.all == ["pass=secret", "next"])
    }

    @Test func sectionsSplitOutputByMarker() {
        let marker = SectionMarker()
        let output = "noise\n\(marker.text) a\n1\n2\n\(marker.text) b\n\n\(marker.text) a\n3"
        let sections = marker.split(output)
        #expect(sections["a"] == ["1", "2", "3"])
        #expect(sections["b"] == [""])
    }
}

final class Lines: @unchecked Sendable {
    private let mutex = NSLock()
    private var stored: [String] = []
    var all: [String] { mutex.withLock { stored } }
    func append(_ line: String) { mutex.withLock { stored.append(line) } }
}
