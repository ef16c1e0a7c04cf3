//! `[pricing]`: the prices of the cost model (`model::cost`), each optional (default AWS
//! us-east-1), finite, ≥ 0 and at most a sane bound; the Spot discount below 1.
//!
//! (A service whose tasks may run on `FARGATE_SPOT` must have
//! `runtime_platform.cpu_architecture = "X86_64"`, Fargate Spot being x86 only: `services`
//! checks it with the capacity provider strategy.)

use super::Ctx;
use crate::model::PricingSpec;
use crate::scenario::file::PricingSection;

/// Highest price accepted per unit-hour (vCPU-hour, GB-hour, ALB-hour, LCU-hour), USD: about
/// 250 times AWS's highest default here; a larger one is a typo (cents for dollars).
pub const MAX_PRICE_USD: f64 = 10.0;

/// Checks `[pricing]` and resolves it over the defaults.
pub(super) fn resolve(ctx: &mut Ctx, p: &PricingSection) -> PricingSpec {
    let d = PricingSpec::default();
    let mut price = |field: &str, v: f64, default: f64| -> f64 {
        if !(v.is_finite() && (0.0..=MAX_PRICE_USD).contains(&v)) {
            ctx.bad(
                format!("pricing.{field}"),
                format!("{v}: must be ≥ 0 and ≤ {MAX_PRICE_USD} USD per unit-hour"),
            );
            return default;
        }
        v
    };
    let spec = PricingSpec {
        fargate_vcpu_hour_usd: price(
            "fargate_vcpu_hour_usd",
            p.fargate_vcpu_hour_usd,
            d.fargate_vcpu_hour_usd,
        ),
        fargate_gb_hour_usd: price(
            "fargate_gb_hour_usd",
            p.fargate_gb_hour_usd,
            d.fargate_gb_hour_usd,
        ),
        fargate_arm64_vcpu_hour_usd: price(
            "fargate_arm64_vcpu_hour_usd",
            p.fargate_arm64_vcpu_hour_usd,
            d.fargate_arm64_vcpu_hour_usd,
        ),
        fargate_arm64_gb_hour_usd: price(
            "fargate_arm64_gb_hour_usd",
            p.fargate_arm64_gb_hour_usd,
            d.fargate_arm64_gb_hour_usd,
        ),
        fargate_spot_discount: d.fargate_spot_discount,
        alb_hour_usd: price("alb_hour_usd", p.alb_hour_usd, d.alb_hour_usd),
        alb_lcu_hour_usd: price("alb_lcu_hour_usd", p.alb_lcu_hour_usd, d.alb_lcu_hour_usd),
    };
    let fargate_spot_discount = match p.fargate_spot_discount {
        v if v.is_finite() && (0.0..1.0).contains(&v) => v,
        v => {
            ctx.bad(
                "pricing.fargate_spot_discount",
                format!(
                    "{v}: must be ≥ 0 and < 1 (a fraction off the on-demand price; AWS says \"up to 70%\": 0.7)"
                ),
            );
            d.fargate_spot_discount
        }
    };
    PricingSpec {
        fargate_spot_discount,
        ..spec
    }
}
