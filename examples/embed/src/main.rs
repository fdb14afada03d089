//! Runs the embedding example: validate, then compile to compose and k8s, then show that a
//! `cmd://` provisioner is refused. `cargo run -p score-embed-example`.

use score_embed_example::*;

fn main() {
    println!("== validate (a broken copy)");
    let broken = SCORE.replace("image: nginx:1.27", "image: [nginx]");
    for problem in validate("score.yaml", &broken) {
        println!("score.yaml:{problem}");
    }
    for (name, target) in [
        ("compose", &compose() as &dyn score_core::Target),
        ("k8s", &k8s()),
    ] {
        println!("== {name}");
        match compile_to(target, SCORE, PROVISIONERS) {
            Ok(text) => print!("{text}"),
            Err(d) => eprintln!("{d}"),
        }
    }
    println!("== a cmd:// provisioner without permission");
    match compile_to(&compose(), SCORE, CMD_PROVISIONERS) {
        Ok(_) => println!("unexpected: it ran"),
        Err(diags) => {
            for d in diags.iter() {
                println!("{}: {}", d.code, d.message);
            }
        }
    }
}
