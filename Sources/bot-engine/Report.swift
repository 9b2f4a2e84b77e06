import ArgumentParser
import Engine
import Foundation

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reports.", subcommands: [Weekly.self])

    struct Weekly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The weekly strategy review over the seven days before now.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Write weekly_review_YYYY-MM-DD.txt into this directory instead of printing.")
        var out: String?

        func run() async throws {
            let review = try await database.withConnection { try await WeeklyReview.compute($0, end: Date()) }
            if let out {
                print("Report written: \(try review.write(to: out))")
            } else {
                print(review.render(), terminator: "")
            }
        }
    }
}
