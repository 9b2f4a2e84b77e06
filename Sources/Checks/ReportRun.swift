import Remote

/// One run of the weekly report script, and the newest report file found right after it, in one
/// command (seed 000 checks 6 and 7).
struct ReportRun: Sendable, Equatable {
    struct ReportFile: Sendable, Equatable {
        var path: String
        var size: Int
        var modified: Int
    }

    var termination: Termination
    var output: String
    var errorOutput: String
    var startedAt: Int
    var finishedAt: Int
    var newest: ReportFile?

    static func perform(_ context: CheckContext) async throws -> ReportRun {
        let settings = context.settings
        let marker = context.marker
        let directory = shellQuote(settings.appPath)
        // The script runs from the checkout, as cron does with its absolute path.
        let command = """
            started=$(date +%s)
            (cd \(directory) && exec \(shellQuote(settings.path(settings.reportScript)))); status=$?
            echo; echo \(marker) result; echo "$status $started $(date +%s)"
            echo \(marker) newest
            newest=$(ls -1t -- \(shellGlob(settings.path(settings.reportGlob))) 2>/dev/null | head -n 1)
            if [ -n "$newest" ]; then stat -L -c '%n|%s|%Y' -- "$newest"; fi
            """
        let result = try await context.run(command)
        let sections = context.sections(result.stdoutText)
        guard let fields = sections["result"]?.first?.split(separator: " "), fields.count == 3,
              let status = Int32(fields[0]), let started = Int(fields[1]), let finished = Int(fields[2]) else {
            throw CheckError.unexpectedOutput(command: "report script run", output: result.stdoutText + result.stderrText)
        }
        let scriptOutput = result.stdoutText.components(separatedBy: marker + " result").first ?? ""
        var newest: ReportFile?
        if let line = sections["newest"]?.first(where: { !$0.isEmpty }) {
            let parts = line.split(separator: "|", omittingEmptySubsequences: false)
            if parts.count >= 3, let size = Int(parts[parts.count - 2]), let modified = Int(parts[parts.count - 1]) {
                newest = ReportFile(path: parts.dropLast(2).joined(separator: "|"), size: size, modified: modified)
            }
        }
        return ReportRun(
            termination: status > 128 ? .signaled(String(status - 128)) : .exited(status),
            output: scriptOutput.trimmingCharacters(in: .whitespacesAndNewlines),
            errorOutput: result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines),
            startedAt: started, finishedAt: finished, newest: newest)
    }
}
