// Opens a checkpoint with an optional user config and prints a few layer lookups.
//   cargo run --example lookup -- CHECKPOINT [CONFIG] [TIMESTEP]
// (from bindings/rust, with SPATTN_LIB_DIR set to the folder of libspattn.so)
use spattn::{Config, Format, Model, Phase};

fn run() -> Result<(), spattn::Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: {} CHECKPOINT [CONFIG] [TIMESTEP]", args[0]);
        std::process::exit(2);
    }
    let config = match args.get(2) {
        Some(path) => Some(Config::from_file(path, Format::Auto)?),
        None => None,
    };
    let timestep = args.get(3).map(|t| t.parse::<f64>().expect("TIMESTEP must be a number"));
    let model = Model::open(&args[1], config.as_ref())?;
    drop(config); // the model keeps what it needs
    println!("spattn {}; components: {:?}", spattn::version(), model.components());
    println!("{:<14} {:<26} {:<8} {:<7} {:>14}  reason", "component", "layer", "phase", "enabled", "threshold");
    for name in model.components() {
        // A plain checkpoint has one component named "": pass None (LLM layer names).
        let (component, layers) = if name.is_empty() {
            (None, vec!["model.layers.0.self_attn", "model.layers.5.self_attn"])
        } else {
            (Some(name), vec!["blocks.0.attn1", "blocks.3.attn1", "blocks.3.attn2", "blocks.39.attn1"])
        };
        'layers: for layer in layers {
            for phase in [Phase::Prefill, Phase::Decode] {
                match model.lookup(component, layer, phase, timestep) {
                    Ok(p) => println!(
                        "{:<14} {:<26} {:<8} {:<7} {:>14.6}  {}",
                        name, layer, phase, p.enabled, p.threshold_scale_factor, p.disabled_reason
                    ),
                    Err(e) => {
                        println!("{:<14} {}", name, e);
                        break 'layers;
                    }
                }
            }
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("spattn: {}", e);
        std::process::exit(1);
    }
}
