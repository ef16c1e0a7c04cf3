//! The `lbsim` command. See `lbsim --help`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
