terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.23"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.1"
    }
  }
}

locals {
  labels = {
    "app.kubernetes.io/name"       = var.name
    "app.kubernetes.io/instance"   = var.name
    "app.kubernetes.io/managed-by" = "score-gen"
  }
}

resource "random_password" "access_key" {
  length      = 24
  special     = false
  min_upper   = 1
  min_lower   = 1
  min_numeric = 1
}

resource "random_password" "secret_key" {
  length      = 24
  special     = false
  min_upper   = 1
  min_lower   = 1
  min_numeric = 1
}

resource "kubernetes_secret_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }

  data = {
    MINIO_ROOT_USER     = random_password.access_key.result
    MINIO_ROOT_PASSWORD = random_password.secret_key.result
  }
}

resource "kubernetes_service_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    selector = {
      "app.kubernetes.io/instance" = var.name
    }
    port {
      name        = "s3"
      port        = 9000
      target_port = "9000"
    }
  }
}

resource "kubernetes_stateful_set_v1" "this" {
  metadata {
    name      = var.name
    namespace = var.namespace
    labels    = local.labels
  }

  spec {
    replicas     = 1
    service_name = kubernetes_service_v1.this.metadata[0].name
    selector {
      match_labels = {
        "app.kubernetes.io/instance" = var.name
      }
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        automount_service_account_token = false
        container {
          name  = "minio"
          image = var.image
          args  = ["server", "/data"]
          port {
            name           = "s3"
            container_port = 9000
          }
          env {
            name = "MINIO_ROOT_USER"
            value_from {
              secret_key_ref {
                name = kubernetes_secret_v1.this.metadata[0].name
                key  = "MINIO_ROOT_USER"
              }
            }
          }
          env {
            name = "MINIO_ROOT_PASSWORD"
            value_from {
              secret_key_ref {
                name = kubernetes_secret_v1.this.metadata[0].name
                key  = "MINIO_ROOT_PASSWORD"
              }
            }
          }
          readiness_probe {
            http_get {
              path = "/minio/health/ready"
              port = "9000"
            }
            period_seconds = 5
          }
          volume_mount {
            name       = "data"
            mount_path = "/data"
          }
        }
      }
    }
    volume_claim_template {
      metadata {
        name = "data"
      }
      spec {
        access_modes       = ["ReadWriteOnce"]
        storage_class_name = var.storage_class
        resources {
          requests = {
            storage = var.storage_size
          }
        }
      }
    }
  }
}

# The bucket is created by a Job once MinIO answers; the Job retries on its own (backoff_limit),
# so apply does not wait for it (wait_for_completion = false).
resource "kubernetes_job_v1" "bucket" {
  metadata {
    name      = "${var.name}-bucket"
    namespace = var.namespace
    labels    = local.labels
  }
  spec {
    backoff_limit = 10
    template {
      metadata {
        labels = local.labels
      }
      spec {
        restart_policy                  = "OnFailure"
        automount_service_account_token = false
        container {
          name    = "create-bucket"
          image   = var.mc_image
          command = ["/bin/sh", "-c"]
          args    = ["mc alias set s3 http://${kubernetes_service_v1.this.metadata[0].name}:9000 $MINIO_ROOT_USER $MINIO_ROOT_PASSWORD && mc mb --ignore-existing s3/${var.name}"]
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.this.metadata[0].name
            }
          }
        }
      }
    }
  }
  wait_for_completion = false
  depends_on          = [kubernetes_stateful_set_v1.this]
}
