//! The synthetic labelled set of answers: espeak-ng greetings of people and of voicemails, in
//! several voices, speeds and pitches, with line noise at several SNRs and a G.711 round trip.
//! Built at test time from a seed, so nothing large is kept in git.

pub mod audio;
pub mod report;

use audio::{Rng, SAMPLE_RATE};
use std::path::Path;
use std::process::Command;

/// Who really answered a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// A person: a short greeting, then waiting for the caller.
    Human,
    /// A voicemail: a long greeting and a beep.
    Machine,
}

/// One labelled answer, 8 kHz, as it reaches the detector.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What it is.
    pub truth: Truth,
    /// How it was made, for the report of misses.
    pub label: String,
    /// The audio after noise and G.711.
    pub samples: Vec<i16>,
    /// Where the beep starts, ms (machines).
    pub beep_start_ms: Option<u32>,
    /// Speech over line noise, dB (`None`: no noise added).
    pub snr_db: Option<f32>,
}

/// A voice with the texts spoken in its language.
#[derive(Debug)]
struct Language {
    voices: &'static [&'static str],
    human: &'static [&'static str],
    /// Greetings as sentences; a pause may be put between the first and the rest.
    machine: &'static [&'static [&'static str]],
}

const LANGUAGES: &[Language] = &[
    Language {
        voices: &["en", "en-us", "en+f3", "en-us+m3", "en+f4", "en-gb-x-rp"],
        human: &[
            "Hello?",
            "Yes, hello?",
            "Hello, who is this?",
            "Yeah?",
            "Hello, Chen speaking.",
            "Hi, this is Sam.",
        ],
        machine: &[
            &[
                "Hi, you've reached the voicemail of Alex Chen.",
                "I can't take your call right now, please leave a message after the tone.",
            ],
            &[
                "Hello, you have reached the office of Doctor Maria Lopez.",
                "Please leave your name, number and a short message, and we will call you back.",
            ],
            &[
                "The person you are calling is not available.",
                "Please leave a message after the tone.",
            ],
            &[
                "Thanks for calling.",
                "We're away from the phone at the moment, leave a message and we'll get back to you.",
            ],
        ],
    },
    Language {
        voices: &["de", "de+f2"],
        human: &["Hallo?", "Ja, bitte?", "Hallo, wer ist da?"],
        machine: &[&[
            "Hallo, Sie sind mit der Mailbox von Jonas Weber verbunden.",
            "Ich bin gerade nicht erreichbar, bitte hinterlassen Sie eine Nachricht nach dem Signalton.",
        ]],
    },
    Language {
        voices: &["cmn", "cmn+f3"],
        human: &["喂？", "喂，你好？", "你好，哪位？"],
        machine: &[&[
            "您好，您拨打的电话暂时无人接听。",
            "请在提示音后留言，我们会尽快给您回电。",
        ]],
    },
    Language {
        voices: &["es", "es+f2"],
        human: &["¿Diga?", "Hola, ¿quién es?"],
        machine: &[&[
            "Hola, has llamado al buzón de voz de Carmen Ruiz.",
            "Ahora no puedo atenderte, deja tu mensaje después de la señal.",
        ]],
    },
];

/// Picks a language: English half the time.
fn language(rng: &mut Rng) -> &'static Language {
    if rng.below(2) == 0 {
        &LANGUAGES[0]
    } else {
        &LANGUAGES[1 + rng.below(LANGUAGES.len() as u64 - 1) as usize]
    }
}

/// How a text is spoken.
#[derive(Debug, Clone)]
struct Speech {
    voice: &'static str,
    speed: u32,
    pitch: u32,
}

impl Speech {
    fn pick(rng: &mut Rng, language: &'static Language) -> Speech {
        Speech {
            voice: language.voices[rng.below(language.voices.len() as u64) as usize],
            speed: 140 + rng.below(61) as u32,
            pitch: 25 + rng.below(51) as u32,
        }
    }
}

/// Runs espeak-ng and returns its speech at 8 kHz, silence trimmed from both ends.
///
/// Panics when espeak-ng is missing: the accuracy figures need it (scripts/setup.sh installs it).
fn speak(dir: &Path, name: &str, speech: &Speech, text: &str) -> Vec<i16> {
    let path = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", speech.voice, "-s"])
        .arg(speech.speed.to_string())
        .arg("-p")
        .arg(speech.pitch.to_string())
        .arg("-w")
        .arg(&path)
        .arg(text)
        .status()
        .unwrap_or_else(|e| {
            panic!("espeak-ng is required for the AMD accuracy set (scripts/setup.sh installs it): {e}")
        });
    assert!(status.success(), "espeak-ng failed for {speech:?} {text:?}");
    let mut reader = hound::WavReader::open(&path).expect("espeak-ng wrote a WAV");
    let rate = reader.spec().sample_rate;
    let raw: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("16-bit WAV");
    let resampled = hotline_media::resample::resample(&raw, rate, SAMPLE_RATE).expect("rates");
    audio::trim(&resampled, 100)
}

/// Recipe of one sample, drawn before synthesis so the set is the same on every machine.
#[derive(Debug, Clone)]
struct Recipe {
    truth: Truth,
    language: &'static Language,
    speech: Speech,
    text: usize,
    lead_ms: u32,
    /// Machines: a pause after the first sentence, ms (0: none).
    mid_pause_ms: u32,
    /// Humans: says "hello" again after this pause, ms (0: stays silent).
    repeat_after_ms: u32,
    beep_gap_ms: u32,
    beep_hz: f32,
    beep_ms: u32,
    level_dbfs: f32,
    snr_db: Option<f32>,
    ulaw: bool,
    seed: u64,
}

const SNRS: [Option<f32>; 5] = [None, Some(30.0), Some(20.0), Some(15.0), Some(10.0)];
const BEEPS: [f32; 6] = [440.0, 850.0, 1000.0, 1000.0, 1400.0, 1800.0];

fn recipe(truth: Truth, rng: &mut Rng) -> Recipe {
    let language = language(rng);
    let speech = Speech::pick(rng, language);
    let texts = match truth {
        Truth::Human => language.human.len(),
        Truth::Machine => language.machine.len(),
    };
    Recipe {
        truth,
        language,
        speech,
        text: rng.below(texts as u64) as usize,
        lead_ms: match truth {
            // Picking up and bringing the phone to the ear.
            Truth::Human => 250 + rng.below(951) as u32,
            Truth::Machine => 100 + rng.below(901) as u32,
        },
        mid_pause_ms: if rng.below(3) == 0 {
            300 + rng.below(351) as u32
        } else {
            0
        },
        repeat_after_ms: if rng.below(2) == 0 {
            1500 + rng.below(1001) as u32
        } else {
            0
        },
        beep_gap_ms: 200 + rng.below(401) as u32,
        beep_hz: BEEPS[rng.below(BEEPS.len() as u64) as usize],
        beep_ms: 200 + rng.below(401) as u32,
        level_dbfs: -30.0 + rng.below(15) as f32,
        snr_db: SNRS[rng.below(SNRS.len() as u64) as usize],
        ulaw: rng.below(2) == 0,
        seed: rng.next(),
    }
}

/// Makes one sample from its recipe.
fn build(dir: &Path, index: usize, recipe: &Recipe) -> Sample {
    let name = format!("{index:03}");
    let mut rng = Rng::new(recipe.seed);
    let mut track = audio::silence(recipe.lead_ms);
    let mut beep_start_ms = None;
    let text_label;
    match recipe.truth {
        Truth::Human => {
            let text = recipe.language.human[recipe.text];
            text_label = text.to_string();
            track.extend(speak(dir, &name, &recipe.speech, text));
            if recipe.repeat_after_ms > 0 {
                track.extend(audio::silence(recipe.repeat_after_ms));
                let again = recipe.language.human[0];
                track.extend(speak(dir, &format!("{name}b"), &recipe.speech, again));
            }
        }
        Truth::Machine => {
            let sentences = recipe.language.machine[recipe.text];
            text_label = sentences.join(" ");
            if recipe.mid_pause_ms > 0 {
                track.extend(speak(dir, &name, &recipe.speech, sentences[0]));
                track.extend(audio::silence(recipe.mid_pause_ms));
                let rest = sentences[1..].join(" ");
                track.extend(speak(dir, &format!("{name}b"), &recipe.speech, &rest));
            } else {
                track.extend(speak(dir, &name, &recipe.speech, &sentences.join(" ")));
            }
            track.extend(audio::silence(recipe.beep_gap_ms));
            beep_start_ms = Some(audio::ms(track.len()));
            track.extend(audio::tone(recipe.beep_hz, recipe.beep_ms, 6000.0));
        }
    }
    // A second of silence at least, and six seconds in all: more than the analysis time.
    track.extend(audio::silence(1000));
    track.resize(track.len().max(audio::samples(6000)), 0);
    audio::set_active_level(&mut track, recipe.level_dbfs);
    if let Some(snr) = recipe.snr_db {
        audio::add_noise(&mut track, recipe.level_dbfs - snr, &mut rng);
    }
    audio::g711_round_trip(&mut track, recipe.ulaw);
    let label = format!(
        "{:?} {} s{} p{} lead {} pause {} {} {} dBFS snr {} {} {:?}",
        recipe.truth,
        recipe.speech.voice,
        recipe.speech.speed,
        recipe.speech.pitch,
        recipe.lead_ms,
        recipe.mid_pause_ms.max(recipe.repeat_after_ms),
        if recipe.ulaw { "ulaw" } else { "alaw" },
        recipe.level_dbfs,
        recipe
            .snr_db
            .map_or("clean".to_string(), |s| format!("{s}")),
        if recipe.truth == Truth::Machine {
            format!("beep {} Hz {} ms", recipe.beep_hz, recipe.beep_ms)
        } else {
            String::new()
        },
        text_label,
    );
    Sample {
        truth: recipe.truth,
        label,
        samples: track,
        beep_start_ms,
        snr_db: recipe.snr_db,
    }
}

/// The labelled set: `per_class` people and `per_class` machines, from `seed`, synthesised on
/// `threads` threads.
pub fn build_set(per_class: usize, seed: u64, threads: usize) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let recipes: Vec<Recipe> = (0..per_class * 2)
        .map(|i| {
            let truth = if i % 2 == 0 {
                Truth::Human
            } else {
                Truth::Machine
            };
            recipe(truth, &mut rng)
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut samples: Vec<Option<Sample>> = vec![None; recipes.len()];
    std::thread::scope(|scope| {
        let chunk = recipes.len().div_ceil(threads.max(1));
        for (part, (recipes, out)) in recipes
            .chunks(chunk)
            .zip(samples.chunks_mut(chunk))
            .enumerate()
        {
            let dir = dir.path();
            scope.spawn(move || {
                for (i, (recipe, slot)) in recipes.iter().zip(out.iter_mut()).enumerate() {
                    *slot = Some(build(dir, part * chunk + i, recipe));
                }
            });
        }
    });
    samples.into_iter().map(|s| s.expect("built")).collect()
}
