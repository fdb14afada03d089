variable "name" {
  type        = string
  description = "Name of the Kubernetes objects (a DNS label)."
}

variable "namespace" {
  type        = string
  description = "Namespace of the Kubernetes objects; null: the provider's default namespace."
  default     = null
}

variable "image" {
  type        = string
  description = "Container image."
  default     = "minio/minio:RELEASE.2024-11-07T00-52-20Z"
}

variable "storage_size" {
  type        = string
  description = "Size of the data volume."
  default     = "1Gi"
}

variable "storage_class" {
  type        = string
  description = "Storage class of the data volume; null: the cluster's default."
  default     = null
}

variable "mc_image" {
  type        = string
  description = "Image of the MinIO client that creates the bucket."
  default     = "minio/mc:RELEASE.2024-11-05T11-29-45Z"
}
