fn main() {
    println!("score-gen (under construction)");
}
