//! Draws an OpenAI-convention mask (RGBA PNG: alpha 0 = fill, opaque =
//! keep) from shapes given as coordinates, so shipped masks can be
//! regenerated exactly. `bench/local/make_masks.sh` holds the coordinates of
//! the masks in `assets/masks/`.
//!
//! ```text
//! cargo run -p msgflux-local --example make_mask -- WIDTH HEIGHT OUT.png SHAPE...
//!   rect:X0,Y0,X1,Y1            pixels X0 <= x < X1, Y0 <= y < Y1
//!   ellipse:CX,CY,RX,RY
//!   polygon:X1,Y1,X2,Y2,...     filled (even-odd rule, pixel centres)
//! ```

use std::process::ExitCode;

use image::{Rgba, RgbaImage};

enum Shape {
    Rect([f64; 4]),
    Ellipse([f64; 4]),
    Polygon(Vec<(f64, f64)>),
}

impl Shape {
    fn parse(text: &str) -> Result<Self, String> {
        let (kind, numbers) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: expected KIND:NUMBERS"))?;
        let numbers: Vec<f64> = numbers
            .split(',')
            .map(|n| n.trim().parse().map_err(|_| format!("`{text}`: `{n}` is not a number")))
            .collect::<Result<_, _>>()?;
        let four = || <[f64; 4]>::try_from(numbers.as_slice()).map_err(|_| format!("`{text}`: expected 4 numbers"));
        match kind {
            "rect" => Ok(Self::Rect(four()?)),
            "ellipse" => Ok(Self::Ellipse(four()?)),
            "polygon" if numbers.len() >= 6 && numbers.len() % 2 == 0 => {
                Ok(Self::Polygon(numbers.chunks(2).map(|p| (p[0], p[1])).collect()))
            }
            "polygon" => Err(format!("`{text}`: a polygon needs at least 3 points (x,y pairs)")),
            other => Err(format!("`{other}`: expected rect, ellipse or polygon")),
        }
    }

    /// Whether the centre of pixel (x, y) lies inside.
    fn contains(&self, x: u32, y: u32) -> bool {
        let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        match self {
            Self::Rect([x0, y0, x1, y1]) => (*x0..*x1).contains(&px) && (*y0..*y1).contains(&py),
            Self::Ellipse([cx, cy, rx, ry]) => ((px - cx) / rx).powi(2) + ((py - cy) / ry).powi(2) <= 1.0,
            Self::Polygon(points) => {
                let mut inside = false;
                let mut previous = points[points.len() - 1];
                for &(x1, y1) in points {
                    let (x0, y0) = previous;
                    if (y1 > py) != (y0 > py) && px < x0 + (py - y0) * (x1 - x0) / (y1 - y0) {
                        inside = !inside;
                    }
                    previous = (x1, y1);
                }
                inside
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = (|| -> Result<(), String> {
        let [width, height, out, shapes @ ..] = args.as_slice() else {
            return Err("usage: make_mask WIDTH HEIGHT OUT.png SHAPE...".into());
        };
        let width: u32 = width.parse().map_err(|_| format!("width `{width}`"))?;
        let height: u32 = height.parse().map_err(|_| format!("height `{height}`"))?;
        let shapes: Vec<Shape> = shapes.iter().map(|s| Shape::parse(s)).collect::<Result<_, _>>()?;
        let mask = RgbaImage::from_fn(width, height, |x, y| {
            let fill = shapes.iter().any(|s| s.contains(x, y));
            Rgba([0, 0, 0, if fill { 0 } else { 255 }])
        });
        let mut png = Vec::new();
        mask.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| e.to_string())?;
        msgflux_core::write_atomic(std::path::Path::new(out), &png).map_err(|e| e.to_string())?;
        let holes = mask.pixels().filter(|p| p[3] == 0).count();
        println!("{out}: {width}x{height}, {holes} pixels to fill");
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("make_mask: {message}");
            ExitCode::FAILURE
        }
    }
}
